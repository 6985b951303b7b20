package jobs

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// ModelName is the name a job's model is published under: "<dataset>-<class>-<id>",
// e.g. "mnist-3-1f2e3d4c".
func ModelName(j api.Job) string {
	return fmt.Sprintf("%s-%d-%s", j.Request.Dataset, j.Request.AnomalyClass, j.ID)
}

// publish writes a succeeded job's weights and model card into its folder, then moves
// them into the models folder: the weights first, the card last. Each rename is atomic
// (the job's folder is inside the models folder, so on the same file system). A crash
// between the two leaves a usable model without its card (the catalog lists a model
// by its weights, and picks the card up when it appears), never a card that describes
// weights that are not there.
func (m *Manager) publish(j *job, res *train.Result) (string, error) {
	m.mu.Lock()
	name := ModelName(j.Job)
	dir := j.dir
	m.mu.Unlock()
	if err := api.CheckName(name); err != nil {
		return "", fmt.Errorf("publishing: %w", err)
	}
	staged := filepath.Join(dir, name+api.WeightsExt)
	card, err := train.Save(res, staged) // the card names the weights by this base name
	if err != nil {
		return "", fmt.Errorf("publishing: %w", err)
	}
	if err := os.Rename(staged, filepath.Join(m.modelsDir, name+api.WeightsExt)); err != nil {
		return "", fmt.Errorf("publishing the weights: %w", err)
	}
	if err := os.Rename(card, filepath.Join(m.modelsDir, name+api.CardExt)); err != nil {
		return "", fmt.Errorf("publishing the model card (the weights are published): %w", err)
	}
	if m.published != nil {
		m.published(name)
	}
	return name, nil
}
