package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	modelcard "github.com/ganomaly-go/ganomaly-go/model/card"
)

// Paths of the HTTP API.
const (
	// ModelsPath answers GET with a [ModelList].
	ModelsPath = "/api/models"
	// WeightsPrefix is followed by "<name>.safetensors": GET or HEAD a weights file.
	WeightsPrefix = "/weights/"
	// WeightsExt ends every weights URL and every published weights file.
	WeightsExt = ".safetensors"
	// CardExt ends a model card published beside a weights file, and every card URL.
	CardExt = ".json"
	// CardsPrefix is followed by "<name>.json": GET or HEAD a model's card.
	CardsPrefix = "/cards/"
	// VersionParam is the query parameter of a weights URL that pins its content: a
	// prefix of the file's SHA-256 in hex. A pinned URL never changes content, which
	// is what lets the server mark it immutable and the browser cache it for good.
	VersionParam = "v"
	// VersionLen is how many hex digits of the SHA-256 a pinned URL carries.
	VersionLen = 16
	// DefaultModel names the model embedded in the server binary.
	DefaultModel = "default"
)

// ModelList is the answer to GET [ModelsPath].
type ModelList struct {
	Models []Model `json:"models"`
	// ServerVersion is the server's build version, AppVersion the version of the
	// browser app it serves (a hash of the app's files).
	ServerVersion string `json:"server_version,omitempty"`
	AppVersion    string `json:"app_version,omitempty"`
}

// Model describes one published model.
type Model struct {
	Name string `json:"name"`
	// Default marks the model embedded in the server, always present.
	Default bool `json:"default,omitempty"`
	// URL is where its weights are, pinned to this content (see [WeightsURL]).
	URL string `json:"url"`
	// Size is the weights file's length in bytes, SHA256 its hash in lowercase hex.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Modified is when the weights file last changed (zero for the embedded model).
	Modified time.Time `json:"modified,omitzero"`

	Config model.Config `json:"config"`
	// Dataset, AnomalyClass and AUC repeat the provenance's fields that a model
	// picker shows, so that a client need not know Provenance's layout.
	Dataset      string            `json:"dataset"`
	AnomalyClass string            `json:"anomaly_class,omitempty"`
	AUC          float64           `json:"auc,omitempty"`
	Calibration  model.Calibration `json:"calibration"`
	// NormalizedThreshold is the threshold on the [0, 1] scale of the score.
	NormalizedThreshold float64          `json:"normalized_threshold"`
	Provenance          model.Provenance `json:"provenance"`
	// Title, Summary and Placeholder repeat the model card's, for a picker. The card
	// itself, with its test figures and history (tens of kilobytes), is at CardURL,
	// pinned to its content as the weights are ([CardURL]); model/card.Parse reads it.
	// CardURL is empty for a model without a card.
	Title       string `json:"title,omitempty"`
	Summary     string `json:"summary,omitempty"`
	Placeholder bool   `json:"placeholder,omitempty"`
	CardURL     string `json:"card_url,omitempty"`
	// CardSHA256 is the card file's SHA-256 in lowercase hex.
	CardSHA256 string `json:"card_sha256,omitempty"`
}

// Version is the short content version of m: the first [VersionLen] hex digits of
// its SHA-256.
func (m Model) Version() string { return ShortHash(m.SHA256) }

// ShortHash cuts a hex SHA-256 to [VersionLen] digits.
func ShortHash(sha256hex string) string {
	if len(sha256hex) > VersionLen {
		return sha256hex[:VersionLen]
	}
	return sha256hex
}

// Error is the body of every API error response.
type Error struct {
	// Code is stable and meant for programs: "model_not_found", "bad_model_name",
	// "version_gone", "not_found", "method_not_allowed".
	Code    string `json:"code"`
	Message string `json:"error"`
	// Field names the request field that was refused (a job's "epochs"), when one was.
	Field string `json:"field,omitempty"`
}

// MaxNameLen bounds a model name.
const MaxNameLen = 100

// CheckName reports whether name can name a model: 1 to [MaxNameLen] characters from
// [A-Za-z0-9._-], starting with a letter or digit, without "..". The rule keeps names
// safe as file names and URL path segments, so that no name can reach outside the
// models folder.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("model name must have 1 to %d characters, has %d", MaxNameLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("model name %q: only letters, digits and . _ - are allowed, starting with a letter or digit", name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("model name %q must not contain \"..\"", name)
	}
	return nil
}

// WeightsURL is the pinned URL of a model's weights: the server answers it only while
// the file still has that content, and marks the answer immutable.
func WeightsURL(name, sha256hex string) string {
	return WeightsPrefix + name + WeightsExt + "?" + VersionParam + "=" + ShortHash(sha256hex)
}

// CardURL is the pinned URL of a model's card, as [WeightsURL] for its weights.
func CardURL(name, sha256hex string) string {
	return CardsPrefix + name + CardExt + "?" + VersionParam + "=" + ShortHash(sha256hex)
}

// Describe checks a weights file and its model card (which may be empty) and fills in
// what the API says of the model called name: the server's models and the browser's
// own are described alike.
func Describe(name string, data, card []byte) (Model, error) {
	f, err := model.ReadWeights(data)
	if err != nil {
		return Model{}, err
	}
	var parsed *modelcard.Card
	if len(card) > 0 {
		if parsed, err = checkCard(card, f.Config); err != nil {
			return Model{}, err
		}
	}
	sum := sha256.Sum256(data)
	m := Model{
		Name:                name,
		Size:                int64(len(data)),
		SHA256:              hex.EncodeToString(sum[:]),
		Config:              f.Config,
		Dataset:             f.Provenance.Dataset,
		AnomalyClass:        f.Provenance.AnomalyClass,
		AUC:                 f.Provenance.TestAUC,
		Calibration:         f.Calibration,
		NormalizedThreshold: f.Calibration.NormalizedThreshold(),
		Provenance:          f.Provenance,
	}
	if len(card) > 0 {
		sum := sha256.Sum256(card)
		m.Title, m.Summary, m.Placeholder = parsed.Title, parsed.Summary, parsed.Placeholder
		m.CardSHA256 = hex.EncodeToString(sum[:])
		m.CardURL = CardURL(name, m.CardSHA256)
	}
	m.URL = WeightsURL(name, m.SHA256)
	return m, nil
}

// checkCard validates a model card against its schema and the weights' config.
func checkCard(data []byte, cfg model.Config) (*modelcard.Card, error) {
	if !json.Valid(data) {
		return nil, errors.New("its model card is not valid JSON")
	}
	c, err := modelcard.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("its model card: %w", err)
	}
	if c.Format != modelcard.Format {
		return nil, fmt.Errorf("its model card has format %q, want %q", c.Format, modelcard.Format)
	}
	if c.Config != cfg {
		return nil, fmt.Errorf("its model card describes config %+v, the weights are %+v: the card belongs to another model", c.Config, cfg)
	}
	return c, nil
}
