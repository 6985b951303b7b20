package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// MaxHeaderSize is the largest header Read accepts, the reference implementation's limit.
	MaxHeaderSize = 100_000_000
	// DefaultMaxFileSize is the largest file ReadFile reads.
	DefaultMaxFileSize int64 = 2 << 30

	metadataKey = "__metadata__"
	headerLen   = 8 // bytes of the little-endian header length N
)

// knownDtypes are the dtypes of the format; all but F32 are rejected as unsupported,
// anything else as unknown.
var knownDtypes = []string{
	"BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
	"I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
}

// ReadFile reads and parses the file at path, refusing files larger than
// DefaultMaxFileSize.
func ReadFile(path string) (*File, error) {
	return ReadFileLimit(path, DefaultMaxFileSize)
}

// ReadFileLimit is ReadFile with a size limit in bytes: a larger file is rejected with
// ErrTooLarge before it is read.
func ReadFileLimit(path string, maxSize int64) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if st.Size() > maxSize {
		return nil, &Error{Kind: ErrTooLarge, Path: path,
			Msg: fmt.Sprintf("file is %d bytes, more than the limit of %d", st.Size(), maxSize)}
	}
	// Stat's size is a hint (pipes say 0, files may grow): read through a limit anyway.
	var buf bytes.Buffer
	if st.Size() < math.MaxInt-bytes.MinRead {
		buf.Grow(int(st.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(fd, maxSize+1)); err != nil {
		return nil, fmt.Errorf("safetensors: read %s: %w", path, err)
	}
	if int64(buf.Len()) > maxSize {
		return nil, &Error{Kind: ErrTooLarge, Path: path,
			Msg: fmt.Sprintf("file is more than the limit of %d bytes", maxSize)}
	}
	f, err := Read(buf.Bytes())
	if err != nil {
		return nil, withPath(err, path)
	}
	return f, nil
}

// Read parses and validates a whole file held in memory. Only dtype F32 is accepted;
// a file holding other dtypes is rejected with an error naming the tensor and its dtype.
// The returned tensors do not alias data.
func Read(data []byte) (*File, error) {
	return read(data, MaxHeaderSize)
}

// entry is one tensor of the header before validation.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end int64
}

func read(data []byte, maxHeader uint64) (*File, error) {
	if len(data) < headerLen {
		return nil, errorf(ErrTruncated, "truncated file: %d bytes, too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if rest := uint64(len(data) - headerLen); n > rest {
		return nil, errorf(ErrTruncated, "truncated file: header length %d exceeds file size %d (header says the file has at least %d bytes; is this a safetensors file?)",
			n, len(data), headerLen+n)
	}
	if n > maxHeader {
		return nil, errorf(ErrTooLarge, "header length %d exceeds the limit of %d bytes", n, maxHeader)
	}
	header := data[headerLen : headerLen+n]
	buf := data[headerLen+n:]

	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := validate(entries, int64(len(buf))); err != nil {
		return nil, err
	}

	// validate proved that the F32 tensors tile buf from 0 to len(buf), so every offset is
	// a multiple of 4 and one decode over the whole buffer serves all tensors.
	all := make([]float32, len(buf)/4)
	decodeF32(all, buf)
	f := &File{Tensors: make([]Tensor, len(entries))}
	for i, e := range entries {
		b, en := e.begin/4, e.end/4
		f.Tensors[i] = Tensor{Name: e.name, Shape: e.shape, Data: all[b:en:en]}
	}
	if len(meta) > 0 {
		f.Metadata = meta
	}
	return f, nil
}

// decodeF32 decodes little-endian float32s: dst[i] from src[4i:4i+4].
func decodeF32(dst []float32, src []byte) {
	src = src[:4*len(dst)] // one bounds check here instead of one per element
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// validate checks dtypes, shapes and offsets of entries (sorted by name on return)
// against a data buffer of size bufLen.
func validate(entries []entry, bufLen int64) error {
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	for _, e := range entries {
		if e.dtype != "F32" {
			if slices.Contains(knownDtypes, e.dtype) {
				return errorf(ErrUnsupportedDtype, "tensor %q has dtype %s; only F32 is supported (export the weights as float32)", e.name, e.dtype)
			}
			return errorf(ErrMalformed, "tensor %q: unknown dtype %q", e.name, e.dtype)
		}
		if e.begin > e.end {
			return errorf(ErrMalformed, "tensor %q: data_offsets [%d %d] have begin > end", e.name, e.begin, e.end)
		}
		count, ok := numElements(e.shape, maxElements)
		if !ok {
			return errorf(ErrMalformed, "tensor %q: shape %v: element count overflows", e.name, e.shape)
		}
		if size := e.end - e.begin; uint64(size) != 4*count {
			return errorf(ErrMalformed, "tensor %q: data_offsets [%d %d] cover %d bytes but shape %v of F32 needs %d", e.name, e.begin, e.end, size, e.shape, 4*count)
		}
	}

	// A header that is consistent on its own but wants more data than follows it is most
	// likely a cut-off download or copy.
	for _, e := range entries {
		if e.end > bufLen {
			return errorf(ErrTruncated, "truncated file: tensor %q: data_offsets [%d %d] reach past the end of the %d-byte data buffer", e.name, e.begin, e.end, bufLen)
		}
	}

	// Coverage: walk in offset order; each tensor must start where the previous ended.
	byOffset := slices.Clone(entries)
	slices.SortFunc(byOffset, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	var cursor int64
	prev := ""
	for _, e := range byOffset {
		switch {
		case e.begin < cursor:
			return errorf(ErrMalformed, "tensor %q: data_offsets [%d %d] overlap tensor %q, which ends at %d", e.name, e.begin, e.end, prev, cursor)
		case e.begin > cursor:
			return errorf(ErrMalformed, "data buffer bytes [%d %d] are not covered by any tensor (gap before tensor %q)", cursor, e.begin, e.name)
		}
		if e.end > e.begin {
			cursor, prev = e.end, e.name
		}
	}
	if cursor != bufLen {
		return errorf(ErrMalformed, "data buffer bytes [%d %d] are not covered by any tensor (%d trailing bytes after the last tensor)", cursor, bufLen, bufLen-cursor)
	}
	return nil
}

// parseHeader walks the header's JSON tokens rather than unmarshaling into a map,
// because encoding/json silently keeps the last of duplicate keys.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		off := 0
		for off < len(header) {
			r, size := utf8.DecodeRune(header[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return nil, nil, errorf(ErrMalformed, "header is not valid UTF-8 (byte 0x%02x at header offset %d)", header[off], off)
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(header)), header: header}
	p.dec.UseNumber()

	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, nil, errorf(ErrMalformed, "header is empty (%d bytes of whitespace), want a JSON object", len(header))
	}
	if err != nil {
		return nil, nil, p.jsonError(err)
	}
	if tok != json.Delim('{') {
		return nil, nil, errorf(ErrMalformed, "header is not a JSON object: it starts with %s", describe(tok))
	}

	var entries []entry
	var meta map[string]string
	seen := make(map[string]bool)
	for p.dec.More() {
		off := p.pos()
		name, err := p.key()
		if err != nil {
			return nil, nil, err
		}
		if seen[name] {
			if name == metadataKey {
				return nil, nil, errorf(ErrMalformed, "duplicate %q at header offset %d", metadataKey, off)
			}
			return nil, nil, errorf(ErrMalformed, "duplicate tensor name %q at header offset %d", name, off)
		}
		seen[name] = true
		if name == metadataKey {
			if meta, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if name == "" {
			return nil, nil, errorf(ErrMalformed, "empty tensor name at header offset %d", off)
		}
		e, err := p.entry(name)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := p.delim('}', "end of the header object"); err != nil {
		return nil, nil, err
	}
	end := p.dec.InputOffset()
	for i, c := range header[end:] {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return nil, nil, errorf(ErrMalformed, "unexpected byte %q after the header object at header offset %d (only whitespace padding may follow)", c, end+int64(i))
		}
	}
	return entries, meta, nil
}

type parser struct {
	dec    *json.Decoder
	header []byte
}

// pos is the header offset where the next token starts, for error messages. The
// decoder's InputOffset stops before the whitespace and separators it has not consumed.
func (p *parser) pos() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.header)) {
		switch p.header[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// jsonError turns a decoder error into an *Error with the header offset.
func (p *parser) jsonError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &Error{Kind: ErrMalformed, Msg: fmt.Sprintf("invalid JSON in header at header offset %d: %v", se.Offset, se)}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(ErrMalformed, "invalid JSON in header: unexpected end at header offset %d", p.dec.InputOffset())
	}
	return errorf(ErrMalformed, "invalid JSON in header at header offset %d: %v", p.dec.InputOffset(), err)
}

func (p *parser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.jsonError(err)
	}
	return tok, nil
}

// key reads an object key; the decoder guarantees keys are strings.
func (p *parser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok { // unreachable with encoding/json, kept so a change there cannot panic here
		return "", errorf(ErrMalformed, "object key at header offset %d is %s, want a string", p.dec.InputOffset(), describe(tok))
	}
	return s, nil
}

func (p *parser) delim(want json.Delim, what string) error {
	off := p.pos()
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != want {
		return errorf(ErrMalformed, "header offset %d: got %s, want %s", off, describe(tok), what)
	}
	return nil
}

// metadata reads the "__metadata__" object: string keys to string values.
func (p *parser) metadata() (map[string]string, error) {
	off := p.pos()
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errorf(ErrMalformed, "%q at header offset %d is %s, want an object of strings", metadataKey, off, describe(tok))
	}
	meta := make(map[string]string)
	for p.dec.More() {
		off := p.pos()
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := meta[k]; dup {
			return nil, errorf(ErrMalformed, "%s: duplicate key %q at header offset %d", metadataKey, k, off)
		}
		off = p.pos()
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, errorf(ErrMalformed, "%s: value of %q at header offset %d is %s, want a string", metadataKey, k, off, describe(tok))
		}
		meta[k] = v
	}
	if err := p.delim('}', "end of "+metadataKey); err != nil {
		return nil, err
	}
	return meta, nil
}

// entry reads one tensor's {"dtype", "shape", "data_offsets"} object.
func (p *parser) entry(name string) (entry, error) {
	e := entry{name: name}
	off := p.pos()
	tok, err := p.token()
	if err != nil {
		return e, err
	}
	if tok != json.Delim('{') {
		return e, errorf(ErrMalformed, "tensor %q at header offset %d is %s, want an object with dtype, shape and data_offsets", name, off, describe(tok))
	}
	var haveDtype, haveShape, haveOffsets bool
	for p.dec.More() {
		off := p.pos()
		k, err := p.key()
		if err != nil {
			return e, err
		}
		var dup bool
		switch k {
		case "dtype":
			dup, haveDtype = haveDtype, true
		case "shape":
			dup, haveShape = haveShape, true
		case "data_offsets":
			dup, haveOffsets = haveOffsets, true
		default:
			return e, errorf(ErrMalformed, "tensor %q: unknown field %q at header offset %d (want dtype, shape, data_offsets)", name, k, off)
		}
		if dup {
			return e, errorf(ErrMalformed, "tensor %q: duplicate field %q at header offset %d", name, k, off)
		}
		switch k {
		case "dtype":
			off := p.pos()
			tok, err := p.token()
			if err != nil {
				return e, err
			}
			s, ok := tok.(string)
			if !ok {
				return e, errorf(ErrMalformed, "tensor %q: dtype at header offset %d is %s, want a string such as \"F32\"", name, off, describe(tok))
			}
			e.dtype = s
		case "shape":
			if e.shape, err = p.ints(name, "shape"); err != nil {
				return e, err
			}
		case "data_offsets":
			offs, err := p.ints(name, "data_offsets")
			if err != nil {
				return e, err
			}
			if len(offs) != 2 {
				return e, errorf(ErrMalformed, "tensor %q: data_offsets %v is not a [begin, end] pair", name, offs)
			}
			e.begin, e.end = int64(offs[0]), int64(offs[1])
		}
	}
	if err := p.delim('}', "end of tensor "+strconv.Quote(name)); err != nil {
		return e, err
	}
	switch {
	case !haveDtype:
		return e, errorf(ErrMalformed, "tensor %q: missing field \"dtype\"", name)
	case !haveShape:
		return e, errorf(ErrMalformed, "tensor %q: missing field \"shape\"", name)
	case !haveOffsets:
		return e, errorf(ErrMalformed, "tensor %q: missing field \"data_offsets\"", name)
	}
	return e, nil
}

// ints reads a JSON array of non-negative integers that fit an int.
func (p *parser) ints(name, field string) ([]int, error) {
	off := p.pos()
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, errorf(ErrMalformed, "tensor %q: %s at header offset %d is %s, want an array of integers", name, field, off, describe(tok))
	}
	out := []int{} // non-nil: a 0-d tensor has Shape [] rather than nil
	for p.dec.More() {
		off := p.pos()
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, errorf(ErrMalformed, "tensor %q: %s element at header offset %d is %s, want a non-negative integer", name, field, off, describe(tok))
		}
		v, err := strconv.ParseInt(string(num), 10, strconv.IntSize)
		switch {
		case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(string(num), "-"):
			return nil, errorf(ErrMalformed, "tensor %q: %s element %s at header offset %d is too large", name, field, num, off)
		case err != nil:
			return nil, errorf(ErrMalformed, "tensor %q: %s element %s at header offset %d is not a non-negative integer", name, field, num, off)
		case v < 0:
			what := "element"
			if field == "shape" {
				what = "dimension"
			}
			return nil, errorf(ErrMalformed, "tensor %q: negative %s %s %d at header offset %d", name, field, what, v, off)
		}
		out = append(out, int(v))
	}
	if err := p.delim(']', "end of "+field); err != nil {
		return nil, err
	}
	return out, nil
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		return "the string " + strconv.Quote(t)
	case json.Number:
		return "the number " + string(t)
	case bool:
		return fmt.Sprintf("%t", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
