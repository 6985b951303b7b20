package ui

import (
	"sync"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// teachSubject is a scored file the teaching view can explain: the check page records
// each one as its result arrives, and a result card's "How is this scored?" link
// names it by its batch id. The page keeps the File itself, not the numbers: the
// teaching view runs the model again on it to get every intermediate value.
type teachSubject struct {
	ID        int
	Name      string
	File      fileHandle
	Model     api.Model
	Raw       float64
	Anomalous bool
}

// subjects lives for the app's lifetime, outside any component, as the check page's
// batch does (check-store.go): go-app creates a fresh page component at each
// navigation. Clearing the batch forgets them.
var subjects struct {
	mu   sync.Mutex
	list []teachSubject
}

// maxSubjects bounds what is kept: File objects are small handles, but a batch can
// hold thousands of them.
const maxSubjects = 1000

// rememberSubject records a scored file, replacing one with the same id.
func rememberSubject(s teachSubject) {
	subjects.mu.Lock()
	defer subjects.mu.Unlock()
	for i := range subjects.list {
		if subjects.list[i].ID == s.ID {
			subjects.list = append(subjects.list[:i], subjects.list[i+1:]...)
			break
		}
	}
	subjects.list = append(subjects.list, s)
	if len(subjects.list) > maxSubjects {
		subjects.list = subjects.list[len(subjects.list)-maxSubjects:]
	}
}

// forgetSubjects drops every recorded file (a new batch starts).
func forgetSubjects() {
	subjects.mu.Lock()
	defer subjects.mu.Unlock()
	subjects.list = nil
}

// recentSubjects lists the recorded files, most recent first.
func recentSubjects() []teachSubject {
	subjects.mu.Lock()
	defer subjects.mu.Unlock()
	out := make([]teachSubject, len(subjects.list))
	for i, s := range subjects.list {
		out[len(out)-1-i] = s
	}
	return out
}

func findSubject(id int) (teachSubject, bool) {
	for _, s := range recentSubjects() {
		if s.ID == id {
			return s, true
		}
	}
	return teachSubject{}, false
}

// contrastFor picks the file to compare s with: the most recent one scored by the
// same model with the other verdict, else the most recent other one.
func contrastFor(s teachSubject, list []teachSubject) (teachSubject, bool) {
	var fallback *teachSubject
	for i, o := range list {
		if o.ID == s.ID || o.Model.URL != s.Model.URL {
			continue
		}
		if o.Anomalous != s.Anomalous {
			return o, true
		}
		if fallback == nil {
			fallback = &list[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return teachSubject{}, false
}
