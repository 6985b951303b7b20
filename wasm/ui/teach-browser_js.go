//go:build js && wasm

package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/hack-pad/safejs"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// watchPicks calls onFile with the first file picked in any of the file inputs ids
// (their change events bubble to the window, which survives go-app re-creating the
// inputs).
func watchPicks(ids []string, onFile func(id string, f fileRef)) (release func()) {
	return listen(global, "change", func(e safejs.Value) {
		input, err := e.Get("target")
		if err != nil {
			return
		}
		id := getString(input, "id")
		for _, want := range ids {
			if id != want {
				continue
			}
			if files, err := get(input, "files"); err == nil {
				if refs := fileRefs(files); len(refs) > 0 {
					onFile(id, refs[0])
				}
			}
			input.Set("value", "")
		}
	})
}

// fetchCard reads the model card of m from Cache Storage, or from the server into it,
// and checks it against the published hash (a damaged cache entry is evicted).
func fetchCard(m api.Model) ([]byte, error) {
	ab, err := cachedBuffer(m.CardURL, true)
	if err != nil {
		return nil, err
	}
	b, err := bufferBytes(ab)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); m.CardSHA256 != "" && hex.EncodeToString(sum[:]) != m.CardSHA256 {
		deleteCached(m.CardURL)
		return nil, errors.New("the card on this device is damaged; it will be fetched again")
	}
	return b, nil
}
