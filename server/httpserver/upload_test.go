package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// upload PUTs a model as the browser does: multipart weights and card.
func upload(t *testing.T, url, token string, parts map[string][]byte) (int, api.Error, api.Model) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, data := range parts {
		fw, err := mw.CreateFormFile(name, name+".bin")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("PUT", url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", api.BearerToken(token))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e api.Error
	var m api.Model
	json.Unmarshal(b, &e)
	json.Unmarshal(b, &m)
	return resp.StatusCode, e, m
}

// TestPublishModel: a model trained elsewhere is published with the token, checked
// first, listed at once and served; a taken name, a bad token, broken or non-finite
// weights and a card of another model are refused without touching the folder.
func TestPublishModel(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(Options{ModelsDir: dir, WebFS: webFS(), Token: testToken, Device: "cpu",
		DefaultWeights: weightsBytes(t, 1, "mnist", 0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(t.Context())
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	weights, card := weightsBytes(t, 9, "folder:dropped-images", 0), cardJSON("my parts")
	url := hs.URL + api.ModelURL("my-parts")

	for _, c := range []struct {
		name   string
		url    string
		token  string
		parts  map[string][]byte
		status int
		code   string
	}{
		{"no token", url, "", map[string][]byte{"weights": weights}, 401, api.CodeUnauthorized},
		{"wrong token", url, "x" + testToken, map[string][]byte{"weights": weights}, 401, api.CodeUnauthorized},
		{"no weights", url, testToken, map[string][]byte{"card": card}, 400, api.CodeBadUpload},
		{"unknown part", url, testToken, map[string][]byte{"weights": weights, "notes": []byte("x")}, 400, api.CodeBadUpload},
		{"broken weights", url, testToken, map[string][]byte{"weights": []byte("not safetensors")}, 422, api.CodeBadUpload},
		{"non-finite weights", url, testToken, map[string][]byte{"weights": nanWeights(t)}, 422, api.CodeBadUpload},
		{"card of another model", url, testToken, map[string][]byte{"weights": weights, "card": []byte(`{"format": "ganomaly-go/model-card", "format_version": 1, "config": {"image_size": 64, "channels": 3, "latent": 8, "width": 4}}`)}, 422, api.CodeBadUpload},
		{"the default's name", hs.URL + api.ModelURL("default"), testToken, map[string][]byte{"weights": weights}, 400, "bad_model_name"},
		{"a card the catalog would refuse", url, testToken, map[string][]byte{"weights": weights, "card": bigCard()}, 413, api.CodeBadUpload},
	} {
		status, e, _ := upload(t, c.url, c.token, c.parts)
		if status != c.status || e.Code != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, status, e, c.status, c.code)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused uploads left files: %v", entries)
	}

	status, e, m := upload(t, url, testToken, map[string][]byte{"weights": weights, "card": card})
	if status != 201 || m.Name != "my-parts" || m.Title != "my parts" || m.CardURL == "" {
		t.Fatalf("upload: %d %+v %+v", status, e, m)
	}
	// Listed at once (no wait for the folder's event), weights and card served.
	var list api.ModelList
	resp, _ := http.Get(hs.URL + api.ModelsPath)
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Models) != 2 || list.Models[1].SHA256 != m.SHA256 {
		t.Errorf("listed: %+v", list.Models)
	}
	for u, want := range map[string][]byte{m.URL: weights, m.CardURL: card} {
		resp, _ := http.Get(hs.URL + u)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(b, want) {
			t.Errorf("GET %s: %d, %d bytes", u, resp.StatusCode, len(b))
		}
	}
	// The name is taken until replace=1; a replacement without a card drops the old one.
	if status, e, _ := upload(t, url, testToken, map[string][]byte{"weights": weights}); status != 409 || e.Code != api.CodeModelExists {
		t.Errorf("second upload: %d %+v", status, e)
	}
	other := weightsBytes(t, 10, "folder:dropped-images", 0)
	if status, _, m2 := upload(t, url+"?replace=1", testToken, map[string][]byte{"weights": other}); status != 201 || m2.SHA256 == m.SHA256 || m2.CardURL != "" {
		t.Errorf("replace: %d %+v", status, m2)
	}
	if _, err := os.Stat(filepath.Join(dir, "my-parts.json")); !os.IsNotExist(err) {
		t.Errorf("the replaced model's card is still there: %v", err)
	}

	// A server without a token takes no uploads.
	bare, _ := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), NoTraining: true, DefaultWeights: weightsBytes(t, 1, "mnist", 0), Logger: slog.New(slog.DiscardHandler)})
	defer bare.Close(t.Context())
	rec := httptest.NewRecorder()
	bare.Handler().ServeHTTP(rec, httptest.NewRequest("PUT", api.ModelURL("x"), strings.NewReader("")))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), api.CodeNoUploads) {
		t.Errorf("upload to a server without a token: %d %s", rec.Code, rec.Body)
	}
}

// nanWeights is a valid weights file but for one NaN.
func nanWeights(t *testing.T) []byte {
	f, err := model.ReadWeights(weightsBytes(t, 11, "mnist", 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Tensors {
		v[0] = float32(math.NaN())
		break
	}
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigCard is a valid model card over the catalog's 256 KiB.
func bigCard() []byte {
	var c map[string]any
	json.Unmarshal(cardJSON("big"), &c)
	c["summary"] = strings.Repeat("a very long summary ", 20000)
	b, _ := json.Marshal(c)
	return b
}
