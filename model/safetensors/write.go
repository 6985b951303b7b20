package safetensors

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
)

// Write writes f in safetensors format. The output is deterministic: "__metadata__"
// first with sorted keys (omitted when empty), then the tensors sorted by name with
// contiguous data_offsets in that order, the header padded with spaces to a multiple of
// 8 bytes. f is validated first (len(Data) equals the product of Shape, names unique,
// non-empty, valid UTF-8 and not "__metadata__"); an invalid f returns an ErrInvalid
// error and nothing is written to w.
func Write(w io.Writer, f *File) error {
	e, err := encode(f)
	if err != nil {
		return err
	}
	if err := e.writeTo(w); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// WriteFile writes f to path atomically: into a temporary file in the same directory,
// synced, then renamed over path. On any error the temporary file is removed and an
// existing file at path is untouched. A new file gets mode 0644; a replaced one keeps
// its mode.
func WriteFile(path string, f *File) error {
	e, err := encode(f)
	if err != nil {
		return withPath(err, path)
	}
	if err := atomicfile.Write(path, e.writeTo); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// encoded is a validated File with its header built, ready to stream.
type encoded struct {
	header  []byte // padded header JSON
	tensors []Tensor
}

func encode(f *File) (*encoded, error) {
	if f == nil {
		return nil, errorf(ErrInvalid, "nil *File")
	}
	tensors := slices.Clone(f.Tensors)
	slices.SortFunc(tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	for i, t := range tensors {
		switch {
		case t.Name == "":
			return nil, errorf(ErrInvalid, "tensor with shape %v has an empty name", t.Shape)
		case t.Name == metadataKey:
			return nil, errorf(ErrInvalid, "tensor name %q is reserved for the metadata", metadataKey)
		case !utf8.ValidString(t.Name):
			return nil, errorf(ErrInvalid, "tensor name %q is not valid UTF-8", t.Name)
		case i > 0 && tensors[i-1].Name == t.Name:
			return nil, errorf(ErrInvalid, "duplicate tensor name %q", t.Name)
		}
		if slices.ContainsFunc(t.Shape, func(d int) bool { return d < 0 }) {
			return nil, errorf(ErrInvalid, "tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
		n, ok := numElements(t.Shape, uint64(len(t.Data)))
		if !ok || n != uint64(len(t.Data)) {
			return nil, errorf(ErrInvalid, "tensor %q: shape %v does not match len(Data) = %d", t.Name, t.Shape, len(t.Data))
		}
	}
	keys := make([]string, 0, len(f.Metadata))
	for k, v := range f.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, errorf(ErrInvalid, "metadata %q: %q: not valid UTF-8", k, v)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	// The same compact JSON the reference (serde_json) writes.
	h := []byte{'{'}
	if len(keys) > 0 {
		h = appendJSONString(h, metadataKey)
		h = append(h, ":{"...)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, f.Metadata[k])
		}
		h = append(h, '}')
	}
	var offset int64
	for i, t := range tensors {
		if i > 0 || len(keys) > 0 {
			h = append(h, ',')
		}
		h = appendJSONString(h, t.Name)
		h = append(h, `:{"dtype":"F32","shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, offset, 10)
		h = append(h, ',')
		offset += 4 * int64(len(t.Data))
		h = strconv.AppendInt(h, offset, 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxHeaderSize {
		return nil, errorf(ErrTooLarge, "header would be %d bytes, more than readers accept (%d)", len(h), MaxHeaderSize)
	}
	return &encoded{header: h, tensors: tensors}, nil
}

func (e *encoded) writeTo(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var n [headerLen]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(e.header)))
	bw.Write(n[:])
	bw.Write(e.header)
	// bufio keeps the first error and returns it from every later call, so checking
	// once per tensor is enough.
	for _, t := range e.tensors {
		data := t.Data
		for len(data) > 0 {
			chunk := bw.AvailableBuffer()
			k := min(len(data), cap(chunk)/4)
			if k == 0 {
				if err := bw.Flush(); err != nil {
					return err
				}
				continue
			}
			chunk = chunk[:4*k]
			for i, v := range data[:k] {
				binary.LittleEndian.PutUint32(chunk[4*i:], math.Float32bits(v))
			}
			if _, err := bw.Write(chunk); err != nil {
				return err
			}
			data = data[k:]
		}
	}
	return bw.Flush()
}

// appendJSONString appends s (valid UTF-8) as a JSON string, escaping exactly what
// serde_json escapes: '"', '\\' and control characters, nothing else.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
