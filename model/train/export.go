package train

import (
	"context"
	"fmt"
)

// Export turns a checkpoint (the file, or the directory holding it) into a Result as
// at the end of a run: the best model kept so far, calibrated and evaluated on the
// data split its options name (loaded again), ready for [Save]. It trains nothing.
func Export(ctx context.Context, checkpoint, device string, events func(Event)) (*Result, error) {
	c, err := readCheckpoint(checkpoint)
	if err != nil {
		return nil, err
	}
	if c.state.Epoch < 1 || c.state.BestEpoch < 1 {
		return nil, fmt.Errorf("%s: no finished epoch, so no model to export", c.source)
	}
	o := c.opts
	o.Resume, o.CheckpointDir, o.Device, o.Engine = true, c.source, device, EngineAuto
	o.Epochs, o.MaxIterations, o.LogEvery = c.state.Epoch, 0, 0
	return Run(ctx, o, events)
}
