package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// Files of a job's folder.
const (
	jobFile    = "job.json"
	eventsFile = "events.jsonl"
)

// Events returns a job's events after sequence number after, a channel that is closed
// at its next event, and whether the job has ended (interrupted included): then the
// events returned are all there will be until it is resumed.
func (m *Manager) Events(id string, after int) (events []api.JobEvent, changed <-chan struct{}, ended bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, nil, false, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	// Sequence numbers run from 1 without gaps, so event n is at index n−1.
	if after < 0 {
		after = 0
	}
	if after < len(j.events) {
		events = append([]api.JobEvent(nil), j.events[after:]...)
	}
	return events, j.changed, j.State.Ended(), nil
}

// addEventLocked numbers an event, keeps it, appends it to the job's events file and
// wakes the job's streams. A write error is logged, not returned: the job goes on, and
// clients connected now still get the event.
func (m *Manager) addEventLocked(j *job, ev api.JobEvent) {
	ev.Seq = len(j.events) + 1
	if ev.Time.IsZero() {
		ev.Time = now()
	}
	j.events = append(j.events, ev)
	j.LastEvent = ev.Seq
	if err := appendLine(filepath.Join(j.dir, eventsFile), ev); err != nil {
		m.log.Error("cannot record a job event", "job", j.ID, "err", err)
	}
	close(j.changed)
	j.changed = make(chan struct{})
}

func appendLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// saveLocked writes job.json atomically; an error is logged (the job goes on, and its
// state is written again at its next change).
func (m *Manager) saveLocked(j *job) {
	b, err := json.MarshalIndent(j.Job, "", "  ")
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(j.dir, jobFile), append(b, '\n'))
	}
	if err != nil {
		m.log.Error("cannot save a job's state", "job", j.ID, "err", err)
	}
}

// load reads every job folder. A job a stopped server left queued or running becomes
// interrupted (resumable); a folder that cannot be read is logged and skipped.
func (m *Manager) load() error {
	dirents, err := os.ReadDir(m.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	for _, d := range dirents {
		if !d.IsDir() {
			continue
		}
		j, err := loadJob(filepath.Join(m.dir, d.Name()))
		if err != nil {
			m.log.Warn("skipping an unreadable job folder", "dir", filepath.Join(m.dir, d.Name()), "err", err)
			continue
		}
		m.jobs[j.ID] = j
		if !j.State.Ended() {
			m.endLocked(j, api.JobInterrupted, "the server stopped while the job was "+string(j.State))
		}
		if j.State == api.JobInterrupted {
			m.log.Info("interrupted job: resume it with POST "+api.JobResumeURL(j.ID), "job", j.ID, "checkpoint", j.Checkpoint)
		}
	}
	return nil
}

func loadJob(dir string) (*job, error) {
	b, err := os.ReadFile(filepath.Join(dir, jobFile))
	if err != nil {
		return nil, err
	}
	j := &job{dir: dir, changed: make(chan struct{})}
	if err := json.Unmarshal(b, &j.Job); err != nil {
		return nil, fmt.Errorf("%s: %w", jobFile, err)
	}
	if j.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("%s names job %q, its folder %q", jobFile, j.ID, filepath.Base(dir))
	}
	if j.Epochs == nil {
		j.Epochs = []api.EpochFigures{}
	}
	if j.events, err = readEvents(filepath.Join(dir, eventsFile)); err != nil {
		return nil, err
	}
	j.LastEvent = len(j.events)
	for _, ev := range j.events {
		if ev.Kind == api.EventStep {
			j.stepsSent = max(j.stepsSent, ev.Iteration)
		}
	}
	return j, nil
}

// readEvents reads an events file up to its first line that is not the next event: a
// crash may have cut the last line short.
func readEvents(path string) ([]api.JobEvent, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []api.JobEvent
	good := 0 // bytes of b up to the end of the last good line
	for rest := b; len(rest) > 0; {
		line, after, complete := bytes.Cut(rest, []byte("\n"))
		var ev api.JobEvent
		if !complete || json.Unmarshal(line, &ev) != nil || ev.Seq != len(out)+1 {
			break
		}
		out = append(out, ev)
		good += len(line) + 1
		rest = after
	}
	// Drop what follows, so that the next event appended starts a line of its own.
	if good < len(b) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
