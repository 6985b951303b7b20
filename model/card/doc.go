// Package card is the model card's schema: the JSON file the training run (model/train)
// writes beside a weights file and the browser app (wasm/ui) reads to teach how the
// model scores. It is pure Go so that both sides share one definition; fields added
// after the first cards carry omitempty, so that older cards still load (their
// readers check for the missing parts, see [Card.HasPCA]).
package card
