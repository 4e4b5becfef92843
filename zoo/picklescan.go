package zoo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxPickleOps bounds the opcodes of one pickle. A state_dict costs about
// 35 opcodes a tensor (torchvision's ResNet-18: 4,245 opcodes in a 14.8 KB
// data.pkl for 122 tensors, counted with Python's pickletools.genops); the
// bound keeps what gopickle builds from any input to tens of MiB.
const MaxPickleOps = 1 << 19

// maxPickleLine bounds a text argument (a module or class name, a number
// in protocol 0): gopickle parses numbers in time that grows faster than
// their length.
const maxPickleLine = 1 << 12

// scanPickle walks one pickle's opcodes from r up to and including its
// STOP without building anything, and returns its length in bytes. It
// refuses an unknown opcode, an argument that declares more bytes than
// the limit left (gopickle allocates a declared length before reading it),
// a pickle longer than limit or with more than MaxPickleOps opcodes: what
// passes can be handed to gopickle, whose memory then stays in proportion
// to the pickle's bytes.
func scanPickle(r *bufio.Reader, limit int64) (int64, error) {
	var pos int64
	skip := func(n int64) error {
		if n < 0 || n > limit-pos {
			return fmt.Errorf("pickle argument of %d bytes at offset %d overruns the pickle's %d bytes", n, pos, limit)
		}
		// The argument is skipped, never held.
		skipped, err := r.Discard(int(n))
		pos += int64(skipped)
		return truncated(err, pos)
	}
	fixed := func(n int) ([]byte, error) {
		if int64(n) > limit-pos {
			return nil, fmt.Errorf("pickle truncated at offset %d", pos)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, truncated(err, pos)
		}
		pos += int64(n)
		return b, nil
	}
	line := func() error {
		for start := pos; ; {
			if pos-start > maxPickleLine {
				return fmt.Errorf("pickle line at offset %d longer than %d bytes", start, maxPickleLine)
			}
			if pos >= limit {
				return fmt.Errorf("pickle line at offset %d has no end within the pickle", pos)
			}
			c, err := r.ReadByte()
			if err != nil {
				return truncated(err, pos)
			}
			pos++
			if c == '\n' {
				return nil
			}
		}
	}
	for ops := 0; ; ops++ {
		if ops >= MaxPickleOps {
			return 0, fmt.Errorf("pickle of more than %d opcodes (a state_dict needs about 35 a tensor)", MaxPickleOps)
		}
		if pos >= limit {
			return 0, fmt.Errorf("pickle truncated: no STOP within its %d bytes", limit)
		}
		op, err := r.ReadByte()
		if err != nil {
			return 0, truncated(err, pos)
		}
		pos++
		switch op {
		case '.': // STOP
			return pos, nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// MARK POP POP_MARK DUP NONE BINPERSID REDUCE APPEND BUILD DICT
			// EMPTY_DICT APPENDS LIST EMPTY_LIST OBJ SETITEM TUPLE
			// EMPTY_TUPLE SETITEMS NEWOBJ TUPLE1-3 NEWTRUE NEWFALSE
			// EMPTY_SET ADDITEMS FROZENSET NEWOBJ_EX STACK_GLOBAL MEMOIZE
			// NEXT_BUFFER READONLY_BUFFER: no argument.
			continue
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p': // FLOAT INT LONG PERSID STRING UNICODE GET PUT
			err = line()
		case 'c', 'i': // GLOBAL INST: module and name lines
			if err = line(); err == nil {
				err = line()
			}
		case 'K', 'h', 'q', 0x80, 0x82: // BININT1 BINGET BINPUT PROTO EXT1
			_, err = fixed(1)
		case 'M', 0x83: // BININT2 EXT2
			_, err = fixed(2)
		case 'J', 'j', 'r', 0x84: // BININT LONG_BINGET LONG_BINPUT EXT4
			_, err = fixed(4)
		case 'G': // BINFLOAT
			_, err = fixed(8)
		case 0x95: // FRAME: its 8-byte length, then opcodes as usual
			var b []byte
			if b, err = fixed(8); err == nil {
				if frame := binary.LittleEndian.Uint64(b); frame > uint64(limit-pos) {
					err = fmt.Errorf("pickle frame of %d bytes at offset %d overruns the pickle's %d bytes", frame, pos, limit)
				}
			}
		case 'U', 'C', 0x8a, 0x8c: // SHORT_BINSTRING SHORT_BINBYTES LONG1 SHORT_BINUNICODE
			var b []byte
			if b, err = fixed(1); err == nil {
				err = skip(int64(b[0]))
			}
		case 'T', 'X', 'B', 0x8b: // BINSTRING BINUNICODE BINBYTES LONG4
			var b []byte
			if b, err = fixed(4); err == nil {
				n := int64(binary.LittleEndian.Uint32(b))
				if op == 'T' || op == 0x8b { // signed lengths
					n = int64(int32(uint32(n)))
				}
				err = skip(n)
			}
		case 0x8d, 0x8e, 0x96: // BINUNICODE8 BINBYTES8 BYTEARRAY8
			var b []byte
			if b, err = fixed(8); err == nil {
				u := binary.LittleEndian.Uint64(b)
				if u > uint64(limit) {
					err = fmt.Errorf("pickle argument of %d bytes at offset %d overruns the pickle's %d bytes", u, pos, limit)
				} else {
					err = skip(int64(u))
				}
			}
		default:
			return 0, fmt.Errorf("unknown pickle opcode 0x%02x at offset %d", op, pos-1)
		}
		if err != nil {
			return 0, err
		}
	}
}

// truncated names an early end of the input; nil stays nil.
func truncated(err error, pos int64) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("pickle truncated at offset %d", pos)
	}
	return err
}
