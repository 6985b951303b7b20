package webapp

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIndexHTML keeps the repository's static entry (index.html) in step with the
// served app: same title and description, and every local file it links exists.
func TestIndexHTML(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	b, err := os.ReadFile(filepath.Join(root, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"<title>" + AppTitle + "</title>",
		`<meta name="description" content="` + AppDescription + `" />`,
		`<meta name="theme-color" content="` + themeColor + `" />`,
		`href="web/app.css"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	links := regexp.MustCompile(`(?:href|src)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	for _, l := range links {
		ref := l[1]
		if strings.Contains(ref, "://") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(ref))); err != nil {
			t.Errorf("index.html links %s: %v", ref, err)
		}
	}
}
