//go:build js && wasm

package ui

import "github.com/hack-pad/safejs"

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
