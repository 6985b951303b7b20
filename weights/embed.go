package weights

import _ "embed"

// The files are embedded rather than read at run time so that the server binary is
// the whole deployment: `ganomaly serve` works from any directory.
var (
	//go:embed default.safetensors
	defaultWeights []byte
	//go:embed default.json
	defaultCard []byte
)

// Default returns the embedded default model's weights file and model card. The
// slices are shared by every caller: do not modify them.
func Default() (data, card []byte) { return defaultWeights, defaultCard }
