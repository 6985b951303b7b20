package pth

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Limits of the pickle pre-scan.
const (
	// maxLine bounds the text arguments of protocol-0 opcodes (GLOBAL's module and
	// name, INT, LONG, ...): legitimate ones are short, and LONG's decimal digits cost
	// quadratic time to parse.
	maxLine = 1024
	// maxLongBytes bounds LONG1/LONG4 integers (gopickle decodes them in quadratic
	// time); the legacy magic number, the longest a checkpoint holds, has 10 bytes.
	maxLongBytes = 64
	// maxBuildCost bounds what gopickle may allocate for one pickle, estimated by
	// scanPickle. A GANomaly state dict costs about 100 times its few kilobytes.
	maxBuildCost = 64 << 20
)

// argKind is how an opcode's argument is encoded in the stream.
type argKind uint8

const (
	argNone   argKind = iota
	argFixed          // n bytes
	argLine           // up to and including '\n'
	argLines2         // two such lines
	argLen1           // 1-byte length, then that many bytes
	argLen4           // 4-byte unsigned little-endian length, then the bytes
	argLen4S          // 4-byte signed length (negative is an error), then the bytes
	argLen8           // 8-byte length, then the bytes
	argFrame          // 8-byte frame length, followed by the frame's opcodes
)

type opInfo struct {
	name string
	kind argKind
	n    int // bytes of argFixed
	// cost estimates the bytes gopickle allocates for the opcode, beyond its argument:
	// a MARK starts a new stack slice of capacity 16, a REDUCE may build an OrderedDict.
	cost int
}

// opcodes lists every opcode gopickle's dispatch table handles (pickletools names).
// Anything else is refused: gopickle would index its 255-entry table with it.
var opcodes = func() [256]*opInfo {
	var t [256]*opInfo
	set := func(op byte, name string, kind argKind, n, cost int) {
		t[op] = &opInfo{name: name, kind: kind, n: n, cost: cost}
	}
	const small, obj, big = 32, 128, 512
	set('(', "MARK", argNone, 0, 16*16+64)
	set('.', "STOP", argNone, 0, 0)
	set('0', "POP", argNone, 0, 0)
	set('1', "POP_MARK", argNone, 0, 0)
	set('2', "DUP", argNone, 0, small)
	set('F', "FLOAT", argLine, 0, small)
	set('I', "INT", argLine, 0, small)
	set('J', "BININT", argFixed, 4, small)
	set('K', "BININT1", argFixed, 1, small)
	set('L', "LONG", argLine, 0, obj)
	set('M', "BININT2", argFixed, 2, small)
	set('N', "NONE", argNone, 0, small)
	set('P', "PERSID", argLine, 0, big)
	set('Q', "BINPERSID", argNone, 0, big)
	set('R', "REDUCE", argNone, 0, big)
	set('S', "STRING", argLine, 0, small)
	set('T', "BINSTRING", argLen4S, 0, small)
	set('U', "SHORT_BINSTRING", argLen1, 0, small)
	set('V', "UNICODE", argLine, 0, small)
	set('X', "BINUNICODE", argLen4, 0, small)
	set('a', "APPEND", argNone, 0, small)
	set('b', "BUILD", argNone, 0, big)
	set('c', "GLOBAL", argLines2, 0, obj)
	set('d', "DICT", argNone, 0, obj)
	set('}', "EMPTY_DICT", argNone, 0, obj)
	set('e', "APPENDS", argNone, 0, small)
	set('g', "GET", argLine, 0, small)
	set('h', "BINGET", argFixed, 1, small)
	set('i', "INST", argLines2, 0, big)
	set('j', "LONG_BINGET", argFixed, 4, small)
	set('l', "LIST", argNone, 0, obj)
	set(']', "EMPTY_LIST", argNone, 0, obj)
	set('o', "OBJ", argNone, 0, big)
	set('p', "PUT", argLine, 0, obj)
	set('q', "BINPUT", argFixed, 1, obj)
	set('r', "LONG_BINPUT", argFixed, 4, obj)
	set('s', "SETITEM", argNone, 0, obj)
	set('t', "TUPLE", argNone, 0, obj)
	set(')', "EMPTY_TUPLE", argNone, 0, obj)
	set('u', "SETITEMS", argNone, 0, obj)
	set('G', "BINFLOAT", argFixed, 8, small)
	set(0x80, "PROTO", argFixed, 1, 0)
	set(0x81, "NEWOBJ", argNone, 0, big)
	set(0x82, "EXT1", argFixed, 1, small)
	set(0x83, "EXT2", argFixed, 2, small)
	set(0x84, "EXT4", argFixed, 4, small)
	set(0x85, "TUPLE1", argNone, 0, obj)
	set(0x86, "TUPLE2", argNone, 0, obj)
	set(0x87, "TUPLE3", argNone, 0, obj)
	set(0x88, "NEWTRUE", argNone, 0, small)
	set(0x89, "NEWFALSE", argNone, 0, small)
	set(0x8a, "LONG1", argLen1, 0, obj)
	set(0x8b, "LONG4", argLen4S, 0, obj)
	set('B', "BINBYTES", argLen4, 0, small)
	set('C', "SHORT_BINBYTES", argLen1, 0, small)
	set(0x8c, "SHORT_BINUNICODE", argLen1, 0, small)
	set(0x8d, "BINUNICODE8", argLen8, 0, small)
	set(0x8e, "BINBYTES8", argLen8, 0, small)
	set(0x8f, "EMPTY_SET", argNone, 0, obj)
	set(0x90, "ADDITEMS", argNone, 0, small)
	set(0x91, "FROZENSET", argNone, 0, obj)
	set(0x92, "NEWOBJ_EX", argNone, 0, big)
	set(0x93, "STACK_GLOBAL", argNone, 0, obj)
	set(0x94, "MEMOIZE", argNone, 0, obj)
	set(0x95, "FRAME", argFrame, 0, 0)
	set(0x96, "BYTEARRAY8", argLen8, 0, obj)
	set(0x97, "NEXT_BUFFER", argNone, 0, small)
	set(0x98, "READONLY_BUFFER", argNone, 0, small)
	return t
}()

// scanPickle walks the opcodes of the pickle at the start of p, without building
// anything, and returns its length through STOP. It refuses what would make gopickle
// allocate more than the input justifies or panic: an unknown opcode, a length beyond
// the remaining bytes, an empty or oversized LONG, an overlong text argument, a total
// estimated allocation above maxBuildCost. It also applies the allow-list to GLOBAL
// and INST, whose names are in the stream, so that a refused class is reported before
// any unpickling; STACK_GLOBAL's names are checked by the class finder.
func scanPickle(p []byte) (int, error) {
	bad := func(pos int, format string, args ...any) error {
		return &Error{Kind: ErrFormat, Msg: fmt.Sprintf("malformed pickle at byte %d: ", pos) + fmt.Sprintf(format, args...)}
	}
	cost := 0
	for pos := 0; pos < len(p); {
		start := pos
		op := opcodes[p[pos]]
		if op == nil {
			return 0, bad(pos, "unknown opcode 0x%02x", p[pos])
		}
		pos++
		rest := len(p) - pos
		arg := 0 // bytes of payload, for the cost
		switch op.kind {
		case argFixed:
			if rest < op.n {
				return 0, bad(start, "%s needs %d bytes, %d left", op.name, op.n, rest)
			}
			pos += op.n
		case argLine, argLines2:
			lines := 1
			if op.kind == argLines2 {
				lines = 2
			}
			var text [2]string
			for i := range lines {
				nl := bytes.IndexByte(p[pos:min(len(p), pos+maxLine+1)], '\n')
				if nl < 0 {
					if len(p)-pos > maxLine {
						return 0, bad(start, "%s argument longer than %d bytes", op.name, maxLine)
					}
					return 0, bad(start, "%s argument is not terminated by a newline", op.name)
				}
				text[i] = string(p[pos : pos+nl])
				pos += nl + 1
				arg += nl
			}
			if op.kind == argLines2 {
				if err := checkClass(text[0], text[1]); err != nil {
					return 0, err
				}
			}
		case argLen1, argLen4, argLen4S, argLen8, argFrame:
			width := 8
			switch op.kind {
			case argLen1:
				width = 1
			case argLen4, argLen4S:
				width = 4
			}
			if rest < width {
				return 0, bad(start, "%s needs a %d-byte length, %d bytes left", op.name, width, rest)
			}
			var n uint64
			switch width {
			case 1:
				n = uint64(p[pos])
			case 4:
				u := binary.LittleEndian.Uint32(p[pos:])
				if op.kind == argLen4S && int32(u) < 0 {
					return 0, bad(start, "%s has a negative length", op.name)
				}
				n = uint64(u)
			case 8:
				n = binary.LittleEndian.Uint64(p[pos:])
			}
			pos += width
			if n > uint64(len(p)-pos) {
				return 0, bad(start, "%s claims %d bytes, only %d follow", op.name, n, len(p)-pos)
			}
			if op.name == "LONG1" || op.name == "LONG4" {
				// gopickle indexes the last byte of the integer: zero bytes would panic.
				if n == 0 || n > maxLongBytes {
					return 0, bad(start, "%s of %d bytes: integers of 1 to %d bytes are supported", op.name, n, maxLongBytes)
				}
			}
			arg = int(n)
			if op.kind != argFrame { // a frame's bytes are the opcodes that follow
				pos += int(n)
			}
		}
		// gopickle reads an argument into a fresh buffer and often copies it again
		// into a string.
		cost += op.cost + 2*arg
		if cost > maxBuildCost {
			return 0, &Error{Kind: ErrTooLarge, Msg: fmt.Sprintf("the pickle would build more than %d MiB of objects: not a state dict", maxBuildCost>>20)}
		}
		if op.name == "STOP" {
			return pos, nil
		}
	}
	return 0, &Error{Kind: ErrFormat, Msg: "truncated pickle: it ends before its STOP opcode"}
}
