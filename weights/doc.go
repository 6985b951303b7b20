// Package weights embeds the default model that the server offers beside any model
// it has published: default.safetensors (a ganomaly-go weights file, see package
// model) and default.json (its model card, as the trainer writes it).
//
// The default is small on purpose, so that training it takes minutes on a CPU and the
// browser downloads 1.7 MB: the official MNIST architecture (32×32 grey, latent 100)
// at width 16 instead of 64, trained 4 epochs with digit 2 held out as the anomaly,
// honest protocol (test AUC in its card). Retrain it, reproducibly, with
//
//	make default-model
//
// The browser app does not import this package: it fetches the weights from the
// server (GET /weights/default.safetensors), so that app.wasm stays small and the
// weights are cached on their own.
package weights
