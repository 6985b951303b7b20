//go:build js && wasm

package main

// Training in the browser, with no server: one worker leads (it holds the data and
// runs model/train's whole run, its protocol included, with a ParallelEngine), the
// others follow (each is a Shard that computes the gradients of its part of every
// batch). Leader and followers talk over MessagePorts that the page hands them; the
// page only starts, pauses, resumes or cancels, and draws the events.
//
// Messages, page → leader (through worker.js):
//
//	{type: "trainLead", request: JSON of api.JobRequest, pack: ArrayBuffer (MNIST) |
//	 images: {normal: [{name, data: ArrayBuffer}...], anomalous: [...]} (the user's),
//	 ports: [MessagePort...], checkpoint?: ArrayBuffer, name: string}
//	{type: "trainControl", action: "pause" | "resume" | "cancel"}
//
// leader → page:
//
//	{type: "trainEvent", event: JSON of api.JobEvent}   progress, numbered from 1
//	{type: "trainCheckpoint", checkpoint: ArrayBuffer, epoch}   after every epoch
//	{type: "trainDone", weights: ArrayBuffer, card: JSON, name}
//	{type: "trainFailed", error, cancelled: bool}
//
// page → follower: {type: "trainFollow", port: MessagePort}; then leader ↔ follower on
// that port: {op: "init", config, hyper, seed} | {op: "grads", x, n} | {op: "apply", g,
// d, gb, db, reinit} | {op: "restore", checkpoint, counters}, each answered with
// {ok: true, ...} or {error}.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sync"
	"testing/fstest"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/api/jobevent"
	"github.com/ganomaly-go/ganomaly-go/wasm/api/jobrequest"
)

// leader is the state of the run this worker leads, if any.
var leader struct {
	sync.Mutex
	cancel context.CancelFunc
	paused bool
	resume chan struct{}
}

func trainLead(msg safejs.Value) error {
	var req api.JobRequest
	if err := json.Unmarshal([]byte(getString(msg, "request")), &req); err != nil {
		return fmt.Errorf("internal error: the training request: %w", err)
	}
	images, _ := msg.Get("images")
	own := images.Type() == safejs.TypeObject
	// The request rules know the data sets a request can name; images dropped into
	// the page come as files, so their request is checked as if for MNIST.
	checked := req
	if own {
		checked.Dataset = data.MNIST
	}
	if err := jobrequest.Validate(checked, api.BrowserLimits, "cpu"); err != nil {
		return err
	}
	o := jobrequest.TrainOptions(req, "cpu")
	o.Engine, o.LogEvery = train.EngineGo, 1
	if own {
		files, err := ownImages(images)
		if err != nil {
			return err
		}
		o.Data = data.Options{Dataset: data.Folder, Dir: OwnImagesName, Files: files, Seed: o.Seed}
	} else {
		pack, err := arrayBufferBytes(msg, "pack")
		if err != nil {
			return fmt.Errorf("the MNIST pack: %w", err)
		}
		o.Data.Pack = pack
	}
	// A share of the known anomalies is set aside from the test to watch training by:
	// the page draws how they and the validation normals separate, epoch by epoch.
	o.Data.WatchFraction = WatchFraction
	store := &pageStore{}
	if ck, err := arrayBufferBytes(msg, "checkpoint"); err == nil && len(ck) > 0 {
		store.start, o.Resume = ck, true
	}
	o.Checkpoints = store
	ports, err := msg.Get("ports")
	if err != nil {
		return err
	}
	n, err := ports.Length()
	if err != nil {
		return err
	}
	var followers []train.Shard
	for i := range n {
		p, err := ports.Index(i)
		if err != nil {
			return err
		}
		followers = append(followers, newRemoteShard(p))
	}
	name := getString(msg, "name")

	ctx, cancel := context.WithCancel(context.Background())
	leader.Lock()
	if leader.cancel != nil {
		leader.Unlock()
		cancel()
		return errors.New("this worker is already training")
	}
	leader.cancel, leader.paused, leader.resume = cancel, false, make(chan struct{})
	leader.Unlock()

	// The leader's engine is the pure-Go one on every worker.
	describe := fmt.Sprintf("the pure-Go engine on %d Web Worker%s", n+1, map[bool]string{true: "s"}[n > 0])
	train.RegisterEngine(train.EngineGo, func(o train.Options) (train.Engine, error) {
		for i, f := range followers {
			if err := f.(*remoteShard).init(o); err != nil {
				return nil, fmt.Errorf("worker %d: %w", i+1, err)
			}
		}
		e, err := train.NewParallelEngine(o, followers, describe)
		if err != nil {
			return nil, err
		}
		return gated{e, ctx}, nil
	}, func(string) (string, bool) { return describe, true })

	go func() {
		defer cancel()
		seq := 0
		res, err := train.Run(ctx, o, func(e train.Event) {
			ev, ok := jobevent.From(e)
			if !ok {
				return
			}
			seq++
			ev.Seq = seq
			b, _ := json.Marshal(ev)
			post(map[string]any{"type": "trainEvent", "event": string(b)})
		})
		leader.Lock()
		leader.cancel = nil
		leader.Unlock()
		if err != nil {
			post(map[string]any{"type": "trainFailed", "error": err.Error(), "cancelled": errors.Is(err, context.Canceled)})
			return
		}
		weights, card, err := finished(res, name)
		if err != nil {
			post(map[string]any{"type": "trainFailed", "error": err.Error()})
			return
		}
		ab, err := bufferOf(weights)
		if err != nil {
			post(map[string]any{"type": "trainFailed", "error": err.Error()})
			return
		}
		postTransfer(map[string]any{"type": "trainDone", "weights": ab, "card": string(card), "name": name}, ab)
	}()
	return nil
}

// OwnImagesName names the images dropped into the page in messages and in the model's
// provenance ("folder:dropped-images").
const OwnImagesName = "dropped-images"

// WatchFraction is the share of the known anomalies a browser run sets aside from its
// test to watch training by (model/data's WatchFraction).
const WatchFraction = 0.2

// ownImages lays the images dropped into the page ({normal: [{name, data}],
// anomalous: [...]}) out as a folder data set. With known anomalies, every fifth
// normal image goes to the test split (a normal the model never trains on) beside
// them, and the others to training, where a tenth are held out for validation. Without
// any, every normal image trains or validates: the model is calibrated on them and
// has no test (model/train).
func ownImages(v safejs.Value) (fstest.MapFS, error) {
	lists := map[string][]safejs.Value{}
	for _, key := range []string{"normal", "anomalous"} {
		list, err := v.Get(key)
		if err != nil || list.Type() != safejs.TypeObject {
			continue
		}
		n, err := list.Length()
		if err != nil {
			return nil, err
		}
		for i := range n {
			item, err := list.Index(i)
			if err != nil {
				return nil, err
			}
			lists[key] = append(lists[key], item)
		}
	}
	normal, anomalous := len(lists["normal"]), len(lists["anomalous"])
	if normal < 10 {
		return nil, fmt.Errorf("%d normal images: give at least 10 (more is better: GANomaly learns what normal looks like from them; a few hundred is a good start)", normal)
	}
	fsys := fstest.MapFS{}
	add := func(items []safejs.Value, dir func(i int) string) error {
		for i, item := range items {
			b, err := arrayBufferBytes(item, "data")
			if err != nil {
				return fmt.Errorf("reading %s: %w", getString(item, "name"), err)
			}
			// The index keeps names unique and never hidden ("." first).
			fsys[fmt.Sprintf("%s/%05d-%s", dir(i), i, path.Base(getString(item, "name")))] = &fstest.MapFile{Data: b}
		}
		return nil
	}
	if err := add(lists["normal"], func(i int) string {
		if anomalous > 0 && i%5 == 4 {
			return "test/0.normal"
		}
		return "train/0.normal"
	}); err != nil {
		return nil, err
	}
	if err := add(lists["anomalous"], func(int) string { return "test/1.abnormal" }); err != nil {
		return nil, err
	}
	return fsys, nil
}

// finished encodes a run's weights file and model card.
func finished(res *train.Result, name string) (weights, card []byte, err error) {
	if weights, err = res.Weights.Bytes(); err != nil {
		return nil, nil, err
	}
	c, err := train.NewModelCard(res, name+".safetensors")
	if err != nil {
		return nil, nil, err
	}
	card, err = json.Marshal(c)
	return weights, card, err
}

func trainControl(msg safejs.Value) error {
	leader.Lock()
	defer leader.Unlock()
	if leader.cancel == nil {
		return errors.New("no training to control")
	}
	switch a := getString(msg, "action"); a {
	case "pause":
		if !leader.paused {
			leader.paused, leader.resume = true, make(chan struct{})
		}
	case "resume":
		if leader.paused {
			leader.paused = false
			close(leader.resume)
		}
	case "cancel":
		leader.cancel()
		if leader.paused {
			leader.paused = false
			close(leader.resume)
		}
	default:
		return fmt.Errorf("unknown action %q", a)
	}
	return nil
}

// gated waits before each step while the page has paused the run, and lets the
// browser deliver messages (pause, cancel) between steps: Go hands the event loop
// back to JavaScript only when it waits.
type gated struct {
	*train.ParallelEngine
	ctx context.Context
}

func (g gated) Step(x []float32, n int) (learn.Losses, error) {
	time.Sleep(time.Millisecond)
	leader.Lock()
	paused, resume := leader.paused, leader.resume
	leader.Unlock()
	if paused {
		select {
		case <-resume:
		case <-g.ctx.Done():
			return learn.Losses{}, g.ctx.Err()
		}
	}
	return g.ParallelEngine.Step(x, n)
}

// pageStore keeps the run's checkpoint with the page (which stores it on the device):
// Save posts it; Load returns the one the page gave at the start.
type pageStore struct{ start []byte }

func (s *pageStore) Save(f *safetensors.File) error {
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		return err
	}
	ab, err := bufferOf(b.Bytes())
	if err != nil {
		return err
	}
	postTransfer(map[string]any{"type": "trainCheckpoint", "checkpoint": ab}, ab)
	return nil
}

func (s *pageStore) Load() (*safetensors.File, error) {
	if len(s.start) == 0 {
		return nil, train.ErrNoCheckpoint
	}
	return safetensors.Read(s.start)
}

// remoteShard is a follower worker seen from the leader.
type remoteShard struct {
	port    safejs.Value
	replies chan safejs.Value
	cfg     model.Config
}

func newRemoteShard(port safejs.Value) *remoteShard {
	s := &remoteShard{port: port, replies: make(chan safejs.Value, 1)}
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) == 1 {
			if d, err := args[0].Get("data"); err == nil {
				s.replies <- d
			}
		}
		return nil
	})
	if err == nil {
		port.Set("onmessage", f.Value())
	}
	return s
}

// call posts a request and waits for its answer (the follower answers in order).
func (s *remoteShard) call(fields map[string]any, transfer ...safejs.Value) (safejs.Value, error) {
	o, err := object(fields)
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := s.port.Call("postMessage", o, array(transfer)); err != nil {
		return safejs.Value{}, err
	}
	r := <-s.replies
	if msg := getString(r, "error"); msg != "" {
		return safejs.Value{}, errors.New(msg)
	}
	return r, nil
}

func (s *remoteShard) init(o train.Options) error {
	cfg, _ := json.Marshal(o.Config)
	hyper, _ := json.Marshal(o.Hyper())
	s.cfg = o.Config
	_, err := s.call(map[string]any{"op": "init", "config": string(cfg), "hyper": string(hyper), "seed": float64(o.Seed)})
	return err
}

func (s *remoteShard) Gradients(x []float32, n int) (train.ShardResult, error) {
	ab, err := floatBuffer(x)
	if err != nil {
		return train.ShardResult{}, err
	}
	r, err := s.call(map[string]any{"op": "grads", "x": ab, "n": n}, ab)
	if err != nil {
		return train.ShardResult{}, err
	}
	var res train.ShardResult
	if err := json.Unmarshal([]byte(getString(r, "losses")), &res.Losses); err != nil {
		return res, fmt.Errorf("losses: %w", err)
	}
	for _, f := range []struct {
		key string
		dst *[]float32
	}{{"g", &res.GGrads}, {"d", &res.DGrads}, {"gb", &res.GBuffers}, {"db", &res.DBuffers}} {
		if *f.dst, err = floatsOf(r, f.key); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *remoteShard) Apply(avg train.ShardResult, reinitD bool) error {
	fields := map[string]any{"op": "apply", "reinit": reinitD}
	var transfer []safejs.Value
	for key, v := range map[string][]float32{"g": avg.GGrads, "d": avg.DGrads, "gb": avg.GBuffers, "db": avg.DBuffers} {
		ab, err := floatBuffer(v)
		if err != nil {
			return err
		}
		fields[key] = ab
		transfer = append(transfer, ab)
	}
	_, err := s.call(fields, transfer...)
	return err
}

func (s *remoteShard) Restore(st learn.State) error {
	f := &safetensors.File{}
	learn.EncodeCheckpoint(f, s.cfg, st, st.G)
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		return err
	}
	ab, err := bufferOf(b.Bytes())
	if err != nil {
		return err
	}
	counters, _ := json.Marshal([3]int{st.AdamGStep, st.AdamDStep, st.DReinits})
	_, err = s.call(map[string]any{"op": "restore", "checkpoint": ab, "counters": string(counters)}, ab)
	return err
}

// follower is the trainer of a worker that follows.
var follower struct {
	t   *learn.Trainer
	cfg model.Config
}

// trainFollow answers the leader's requests on port, each at once (synchronously: a
// follower has nothing else to do).
func trainFollow(msg safejs.Value) error {
	port, err := msg.Get("port")
	if err != nil {
		return err
	}
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		var reply map[string]any
		var transfer []safejs.Value
		func() {
			defer func() {
				if p := recover(); p != nil {
					reply = map[string]any{"error": fmt.Sprintf("internal error in a training worker: %v", p)}
				}
			}()
			d, err := args[0].Get("data")
			if err == nil {
				reply, transfer, err = followRequest(d)
			}
			if err != nil {
				reply = map[string]any{"error": err.Error()}
			}
		}()
		o, err := object(reply)
		if err == nil {
			port.Call("postMessage", o, array(transfer))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return port.Set("onmessage", f.Value())
}

func followRequest(d safejs.Value) (map[string]any, []safejs.Value, error) {
	ok := map[string]any{"ok": true}
	switch op := getString(d, "op"); op {
	case "init":
		var cfg model.Config
		var h learn.Hyper
		if err := json.Unmarshal([]byte(getString(d, "config")), &cfg); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal([]byte(getString(d, "hyper")), &h); err != nil {
			return nil, nil, err
		}
		seed, _ := d.Get("seed")
		s, _ := seed.Float()
		t, err := learn.NewTrainer(cfg, h, int64(s))
		if err != nil {
			return nil, nil, err
		}
		follower.t, follower.cfg = t, cfg
		return ok, nil, nil
	case "grads":
		if follower.t == nil {
			return nil, nil, errors.New("internal error: a training worker got a batch before its model")
		}
		x, err := floatsOf(d, "x")
		if err != nil {
			return nil, nil, err
		}
		nv, _ := d.Get("n")
		n, _ := nv.Int()
		l, err := follower.t.Gradients(x, n)
		if err != nil {
			return nil, nil, err
		}
		losses, _ := json.Marshal(l)
		reply := map[string]any{"ok": true, "losses": string(losses)}
		gg, dg := follower.t.Grads()
		gb, db := follower.t.Buffers()
		var transfer []safejs.Value
		for key, v := range map[string][]float32{"g": gg, "d": dg, "gb": gb, "db": db} {
			ab, err := floatBuffer(v)
			if err != nil {
				return nil, nil, err
			}
			reply[key] = ab
			transfer = append(transfer, ab)
		}
		return reply, transfer, nil
	case "apply":
		if follower.t == nil {
			return nil, nil, errors.New("internal error: a training worker got gradients before its model")
		}
		gg, dg := follower.t.Grads()
		gb, db := follower.t.Buffers()
		for key, dst := range map[string][]float32{"g": gg, "d": dg, "gb": gb, "db": db} {
			v, err := floatsOf(d, key)
			if err != nil {
				return nil, nil, err
			}
			if len(v) != len(dst) {
				return nil, nil, fmt.Errorf("internal error: %d values for %s, want %d", len(v), key, len(dst))
			}
			copy(dst, v)
		}
		return ok, nil, follower.t.Apply(getBool(d, "reinit"))
	case "restore":
		if follower.t == nil {
			return nil, nil, errors.New("internal error: a training worker got a checkpoint before its model")
		}
		b, err := arrayBufferBytes(d, "checkpoint")
		if err != nil {
			return nil, nil, err
		}
		f, err := safetensors.Read(b)
		if err != nil {
			return nil, nil, err
		}
		st, _, err := learn.DecodeCheckpoint(f, follower.cfg)
		if err != nil {
			return nil, nil, err
		}
		var c [3]int
		if err := json.Unmarshal([]byte(getString(d, "counters")), &c); err != nil {
			return nil, nil, err
		}
		st.AdamGStep, st.AdamDStep, st.DReinits = c[0], c[1], c[2]
		return ok, nil, follower.t.Restore(st)
	default:
		return nil, nil, fmt.Errorf("internal error: unknown request %q", op)
	}
}

// JavaScript plumbing.

func getString(v safejs.Value, key string) string {
	f, err := v.Get(key)
	if err != nil {
		return ""
	}
	if t := f.Type(); t != safejs.TypeString {
		return ""
	}
	s, _ := f.String()
	return s
}

func getBool(v safejs.Value, key string) bool {
	f, err := v.Get(key)
	if err != nil {
		return false
	}
	b, _ := f.Bool()
	return b
}

// arrayBufferBytes copies the ArrayBuffer v[key] into Go.
func arrayBufferBytes(v safejs.Value, key string) ([]byte, error) {
	ab, err := v.Get(key)
	if err != nil {
		return nil, err
	}
	if ab.Type() != safejs.TypeObject {
		return nil, fmt.Errorf("no %s", key)
	}
	ctor, err := global.Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	u8, err := ctor.New(ab)
	if err != nil {
		return nil, err
	}
	return bytesFromJS(u8)
}

// floatsOf reads the ArrayBuffer v[key] of little-endian float32s.
func floatsOf(v safejs.Value, key string) ([]float32, error) {
	b, err := arrayBufferBytes(v, key)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("internal error: %s holds %d bytes, not float32s", key, len(b))
	}
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f, nil
}

// bufferOf copies b into a new ArrayBuffer.
func bufferOf(b []byte) (safejs.Value, error) {
	u8, err := bytesToJS(b)
	if err != nil {
		return safejs.Value{}, err
	}
	return u8.Get("buffer")
}

func floatBuffer(f []float32) (safejs.Value, error) { return bufferOf(floatBytes(f)) }

func array(vs []safejs.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// post sends a message to the page.
func post(fields map[string]any) { postTransfer(fields) }

func postTransfer(fields map[string]any, transfer ...safejs.Value) {
	o, err := object(fields)
	if err != nil {
		return
	}
	global.Call("postMessage", o, array(transfer))
}
