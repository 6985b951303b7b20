package api

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, name := range []string{"default", "mnist-0", "fashion_mnist.7", "A1", "x", strings.Repeat("a", MaxNameLen)} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "../etc/passwd", "a/b", `a\b`, "a..b", "-x", ".hidden",
		"a b", "a%2fb", "é", "a\x00", strings.Repeat("a", MaxNameLen+1)} {
		if err := CheckName(name); err == nil {
			t.Errorf("CheckName(%q) = nil, want an error", name)
		}
	}
}

func TestWeightsURL(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got, want := WeightsURL("mnist-0", sha), "/weights/mnist-0.safetensors?v=0123456789abcdef"; got != want {
		t.Errorf("WeightsURL = %q, want %q", got, want)
	}
	if got := (Model{SHA256: sha}).Version(); got != "0123456789abcdef" {
		t.Errorf("Version = %q", got)
	}
}
