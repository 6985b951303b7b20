package model

// Invalid is one setting that a Validate method refuses. Setting names it as its JSON
// field ("image_size", "epochs"), or is empty when settings only clash together;
// Reason says why, in words a user can act on. Validators wrap it with their
// package's context for logs and the command line, while forms and APIs take the
// setting and the reason from it with [Invalids], never by reading the message.
type Invalid struct {
	Setting string
	Reason  string
}

func (e *Invalid) Error() string { return e.Reason }

// Invalids lists every *Invalid in err's tree (through wrapping and errors.Join), in
// order.
func Invalids(err error) []*Invalid {
	var out []*Invalid
	var walk func(error)
	walk = func(err error) {
		if inv, ok := err.(*Invalid); ok {
			out = append(out, inv)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}
