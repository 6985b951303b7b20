package httpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// jobRequestKeys are the JSON names of api.JobRequest's fields, exactly as spelled.
var jobRequestKeys = jsonNames(reflect.TypeFor[api.JobRequest]())

// jsonNames lists the JSON keys of a struct type's exported fields.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names[name] = true
	}
	return names
}

// checkKeys reads the top-level object of body and reports the first key that is
// not exactly one of allowed or that appears twice, as (field, message). It says
// nothing of other JSON errors: the decoder that follows reports those.
func checkKeys(body []byte, allowed map[string]bool) (field, msg string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", ""
		}
		key, _ := tok.(string)
		switch {
		case seen[key]:
			return key, fmt.Sprintf("field %q appears twice: give each field once", key)
		case !allowed[key]:
			for name := range allowed {
				if strings.EqualFold(name, key) {
					return key, fmt.Sprintf("unknown field %q: field names are lower case, exactly as documented (did you mean %q?)", key, name)
				}
			}
			return key, fmt.Sprintf("unknown field %q: a job request has %s", key, listKeys(allowed))
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", ""
		}
	}
	return "", ""
}

// listKeys names the allowed keys in order, for a message.
func listKeys(allowed map[string]bool) string {
	keys := slices.Sorted(maps.Keys(allowed))
	return strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]
}
