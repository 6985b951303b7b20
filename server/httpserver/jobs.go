package httpserver

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ganomaly-go/ganomaly-go/server/internal/jobs"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/api/jobrequest"
)

// Training endpoints (package server/internal/jobs does the work):
//
//	GET    /api/jobs                 api.JobList: every job, newest first, and the limits
//	GET    /api/jobs/limits          api.JobLimits
//	POST   /api/jobs                 api.JobRequest → 201 api.Job            (token)
//	GET    /api/jobs/{id}            api.Job
//	DELETE /api/jobs/{id}            cancel → api.Job                        (token)
//	DELETE /api/jobs/{id}?delete=1   delete an ended job and its folder → 204 (token)
//	GET    /api/jobs/{id}/events     Server-Sent Events, one api.JobEvent each, replayed
//	                                 after Last-Event-ID (or ?last_event_id=)
//	POST   /api/jobs/{id}/resume     queue an interrupted job again → api.Job (token)
//
// Reading needs nothing; what starts or stops work needs "Authorization: Bearer
// <token>". Without a models folder (nowhere to publish) every endpoint answers 503.

// maxRequestBytes bounds a job request: a handful of numbers and words.
const maxRequestBytes = 16 << 10

// cancelWait is how long DELETE waits for a running job to stop: it stops between two
// steps, which take milliseconds to a second.
const cancelWait = 5 * time.Second

// defaultHeartbeat is the interval of the comment lines an event stream sends while
// nothing happens, so that proxies and browsers do not close it as idle.
const defaultHeartbeat = 15 * time.Second

func (s *Server) jobRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+api.JobsPath, s.needJobs(s.listJobs))
	mux.HandleFunc("POST "+api.JobsPath, s.needJobs(s.needToken(s.createJob)))
	mux.HandleFunc(api.JobsPath, methodNotAllowed("GET, HEAD, POST"))
	mux.HandleFunc("GET "+api.JobLimitsPath, s.needJobs(s.jobLimits))
	mux.HandleFunc("GET "+api.JobsPrefix+"{id}", s.needJobs(s.getJob))
	mux.HandleFunc("DELETE "+api.JobsPrefix+"{id}", s.needJobs(s.needToken(s.cancelJob)))
	// One fallback for both: a method-less "/api/jobs/limits" would clash with
	// "GET /api/jobs/{id}" (neither pattern is more specific than the other).
	mux.HandleFunc(api.JobsPrefix+"{id}", func(w http.ResponseWriter, r *http.Request) {
		if api.JobsPrefix+r.PathValue("id") == api.JobLimitsPath {
			methodNotAllowed("GET, HEAD")(w, r)
			return
		}
		methodNotAllowed("GET, HEAD, DELETE")(w, r)
	})
	mux.HandleFunc("GET "+api.JobsPrefix+"{id}/events", s.needJobs(s.jobEvents))
	mux.HandleFunc(api.JobsPrefix+"{id}/events", methodNotAllowed("GET"))
	mux.HandleFunc("POST "+api.JobsPrefix+"{id}/resume", s.needJobs(s.needToken(s.resumeJob)))
	mux.HandleFunc(api.JobsPrefix+"{id}/resume", methodNotAllowed("POST"))
}

// needJobs answers 503 when this server does not train.
func (s *Server) needJobs(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.jobs == nil {
			writeError(w, http.StatusServiceUnavailable, api.CodeNoTraining,
				"this server does not train models: start it with a models folder (ganomaly serve --models-dir DIR)")
			return
		}
		next(w, r)
	}
}

// needToken answers 401 unless the request carries the server's token. The tokens are
// compared through their SHA-256, in constant time: neither the content nor the length
// of the right token leaks through the time a refusal takes.
func (s *Server) needToken(next http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.token))
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := api.ParseBearer(r.Header.Get("Authorization"))
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ganomaly training"`)
			msg := "starting or stopping a training job, or publishing a model, needs the server's token: send it as \"Authorization: Bearer <token>\" (ganomaly serve prints it at start)"
			if ok {
				msg = "wrong token: use the one ganomaly serve printed at start (or its --token / GANOMALY_TOKEN)"
			}
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, msg)
			return
		}
		next(w, r)
	}
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, api.JobList{Jobs: s.jobs.List(), Limits: s.jobs.Limits()})
}

func (s *Server) jobLimits(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, s.jobs.Limits())
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var req api.JobRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err == nil {
		// encoding/json matches keys case-insensitively and keeps the last of
		// duplicates: {"Epochs": 3, "epochs": 50} would pass as 50. Only exact,
		// single keys are accepted.
		if field, msg := checkKeys(body, jobRequestKeys); msg != "" {
			writeErrorField(w, http.StatusBadRequest, api.CodeBadJSON, field, msg)
			return
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // checkKeys named unknown top-level keys already
	if err == nil {
		err = dec.Decode(&req)
	}
	if err != nil {
		code, field, msg := api.CodeBadJSON, "", "the body must be one JSON object (api.JobRequest): "+err.Error()
		var typeErr *json.UnmarshalTypeError
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &typeErr):
			field = typeErr.Field
			msg = fmt.Sprintf("%s: want a %s, not a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
		case errors.As(err, &tooBig):
			msg = fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF):
			msg = "the body is empty: send a JSON job request"
		}
		writeErrorField(w, http.StatusBadRequest, code, field, msg)
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, api.CodeBadJSON, "the body must hold one JSON object, and nothing after it")
		return
	}
	job, err := s.jobs.Submit(req)
	if err != nil {
		s.jobError(w, err)
		return
	}
	w.Header().Set("Location", api.JobURL(job.ID))
	writeJSON(w, http.StatusCreated, job)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	job, err := s.jobs.Get(r.PathValue("id"))
	if err != nil {
		s.jobError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, job)
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	// DELETE cancels a queued or running job. With ?delete=1 it deletes a job that
	// has ended instead (its folder, its checkpoints; a published model stays): a
	// cancel sent twice, as a retry, must not delete the record of what happened.
	if r.URL.Query().Get("delete") == "1" {
		if err := s.jobs.Delete(r.PathValue("id")); err != nil {
			s.jobError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	job, err := s.jobs.Cancel(r.PathValue("id"), cancelWait)
	if err != nil {
		s.jobError(w, err)
		return
	}
	status := http.StatusOK
	if !job.State.Ended() {
		status = http.StatusAccepted // still stopping; its events say when it has
	}
	writeJSON(w, status, job)
}

func (s *Server) resumeJob(w http.ResponseWriter, r *http.Request) {
	job, err := s.jobs.Resume(r.PathValue("id"))
	if err != nil {
		s.jobError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}

// jobError maps the job manager's errors to statuses.
func (s *Server) jobError(w http.ResponseWriter, err error) {
	if re, ok := jobrequest.IsRequestError(err); ok {
		writeErrorField(w, http.StatusBadRequest, api.CodeInvalidJob, re.Field, re.Error())
		return
	}
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		writeError(w, http.StatusNotFound, api.CodeJobNotFound, err.Error()+"; "+api.JobsPath+" lists the jobs")
	case errors.Is(err, jobs.ErrConflict):
		writeError(w, http.StatusConflict, api.CodeJobConflict, err.Error())
	case errors.Is(err, jobs.ErrQueueFull):
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, api.CodeQueueFull, err.Error())
	case errors.Is(err, jobs.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, api.CodeNoTraining, "the server is shutting down")
	default:
		s.log.Error("job request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

// jobEvents streams a job's events as Server-Sent Events: every event after the one
// the client last saw (Last-Event-ID, which EventSource sends when it reconnects, or
// ?last_event_id=), then each new one as it happens, with a comment line every
// heartbeat while nothing does. The stream ends after the job's end event.
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	last := 0
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get(api.LastEventIDParam)} {
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "bad_event_id", fmt.Sprintf("last event id %q: want the sequence number of an event (0 or more)", v))
			return
		}
		last = max(last, n)
	}
	events, changed, ended, err := s.jobs.Events(id, last)
	if err != nil {
		s.jobError(w, err)
		return
	}
	client := clientOf(r.RemoteAddr)
	if !s.streams.acquire(client) {
		tooManyStreams(w, s.streams.max)
		return
	}
	defer s.streams.release(client)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return // the headers say it is there; a HEAD must not wait for the job
	}
	// retry: how long EventSource waits before it reconnects after a cut.
	fmt.Fprint(w, "retry: 2000\n\n")
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for {
		// A stream lives as long as its job: each round of events gets its own
		// write deadline instead of the server's one for ordinary responses.
		_ = rc.SetWriteDeadline(time.Now().Add(2*s.heartbeat + 10*time.Second))
		for _, ev := range events {
			b, err := json.Marshal(ev)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", ev.Seq, b); err != nil {
				return
			}
			last = ev.Seq
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if ended {
			return // every event there is was sent, the end event last
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(2*s.heartbeat + 10*time.Second))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
		if events, changed, ended, err = s.jobs.Events(id, last); err != nil {
			return
		}
	}
}

func writeErrorField(w http.ResponseWriter, status int, code, field, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, api.Error{Code: code, Message: msg, Field: field})
}
