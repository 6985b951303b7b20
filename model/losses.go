package model

// Losses are the terms of one GANomaly training step, as the official code computes
// them: what a trainer (model/learn, the libtorch engine) reports and the progress
// events, the jobs API and the dashboards carry.
type Losses struct {
	Adv float64 `json:"adv"` // feature matching, mean((f_D(x) − f_D(x̂))²)
	Con float64 `json:"con"` // L1(x̂, x)
	Enc float64 `json:"enc"` // mean((ẑ − z)²)
	G   float64 `json:"g"`   // w_adv·Adv + w_con·Con + w_enc·Enc
	D   float64 `json:"d"`   // 0.5·[BCE(D(x), 1) + BCE(D(x̂), 0)]
}
