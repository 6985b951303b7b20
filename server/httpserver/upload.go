package httpserver

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// maxUploadBytes bounds a published model's weights and card together: far above a
// model a browser trains or runs. uploadReadTimeout is how long its body may take.
const (
	maxUploadBytes    = 256 << 20
	uploadReadTimeout = 10 * time.Minute
)

// publishModel answers PUT /api/models/{name} (token): a model trained elsewhere (a
// browser's Train here, or by hand) published into the models folder. The body is
// multipart/form-data with a "weights" part (a safetensors weights file) and an
// optional "card" part (its model card). Both are checked as the catalog checks a
// model before anything is written: finite weights, a card of the model card schema
// that describes these weights. An existing name is refused (409) unless the query
// has replace=1. Files are written as jobs publish theirs: atomically, the weights
// before the card (and a replaced model's old card removed first), so that a crash
// never leaves a card beside weights it does not describe.
func (s *Server) publishModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := api.CheckName(name); err != nil {
		writeError(w, http.StatusBadRequest, "bad_model_name", err.Error())
		return
	}
	if name == api.DefaultModel {
		writeError(w, http.StatusBadRequest, "bad_model_name", `"default" is the embedded model's name: choose another`)
		return
	}
	replace, _ := strconv.ParseBool(r.URL.Query().Get("replace"))
	// A model may be large and the link slow: more than an ordinary request's time.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadReadTimeout))
	weights, card, err := readUpload(w, r)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeBadUpload, fmt.Sprintf("the upload is larger than %d MB", maxUploadBytes>>20))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, api.CodeBadUpload, err.Error())
		return
	case len(card) > maxCardBytes:
		// The catalog would leave the model out: refuse it here, before writing.
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeBadUpload, fmt.Sprintf("the model card has %d bytes; a card may have %d", len(card), maxCardBytes))
		return
	}
	m, err := api.Describe(name, weights, card)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, api.CodeBadUpload, "the model is refused: "+err.Error())
		return
	}

	s.uploads.Lock()
	defer s.uploads.Unlock()
	dir := s.opts.ModelsDir
	weightsPath, cardPath := filepath.Join(dir, name+api.WeightsExt), filepath.Join(dir, name+api.CardExt)
	if _, err := os.Stat(weightsPath); err == nil && !replace {
		writeError(w, http.StatusConflict, api.CodeModelExists, fmt.Sprintf("a model %q is already published: choose another name, or add ?replace=1 to replace it", name))
		return
	}
	if err := os.Remove(cardPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("cannot remove a replaced model's card", "path", cardPath, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "cannot replace the model's card")
		return
	}
	if err := atomicfile.WriteFile(weightsPath, weights); err != nil {
		s.log.Error("cannot write uploaded weights", "path", weightsPath, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "cannot write the weights")
		return
	}
	if card != nil {
		if err := atomicfile.WriteFile(cardPath, card); err != nil {
			s.log.Error("cannot write an uploaded card", "path", cardPath, "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "the weights are published, but not the card")
			return
		}
	}
	s.catalog.changed() // listed when the answer arrives
	s.log.Info("model uploaded", "name", name, "sha256", m.SHA256, "bytes", m.Size, "card", card != nil, "replaced", replace)
	w.Header().Set("Location", m.URL)
	writeJSON(w, http.StatusCreated, m)
}

// readUpload reads the weights and card parts of a multipart body.
func readUpload(w http.ResponseWriter, r *http.Request) (weights, card []byte, err error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return nil, nil, errors.New(`send multipart/form-data with a "weights" file and an optional "card" file`)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the upload: %w", err)
		}
		var dst *[]byte
		switch part.FormName() {
		case "weights":
			dst = &weights
		case "card":
			dst = &card
		default:
			return nil, nil, fmt.Errorf("unknown part %q: send \"weights\" and, optionally, \"card\"", part.FormName())
		}
		if *dst != nil {
			return nil, nil, fmt.Errorf("part %q appears twice", part.FormName())
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %q: %w", part.FormName(), err)
		}
		if b == nil {
			b = []byte{} // seen, if empty
		}
		*dst = b
	}
	if len(weights) == 0 {
		return nil, nil, errors.New(`no "weights" file in the upload`)
	}
	if card != nil && len(card) == 0 {
		card = nil
	}
	return weights, card, nil
}

// needUploads answers 503 when this server takes no models: it needs a models folder
// to publish into and a token to check.
func (s *Server) needUploads(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.ModelsDir == "" || s.token == "" {
			writeError(w, http.StatusServiceUnavailable, api.CodeNoUploads,
				"this server takes no models: start it with a models folder and a token (ganomaly serve --models-dir DIR; the token comes from $GANOMALY_TOKEN or is printed at start)")
			return
		}
		next(w, r)
	}
}
