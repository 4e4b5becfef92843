package zoo

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"os"
	"path"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// Limits on what a .pth file may declare, checked before anything of that
// size is allocated.
const (
	// MaxPickleBytes bounds a checkpoint's data.pkl (the pickled
	// structure, not the weights: about 100 KiB for ResNet-152).
	MaxPickleBytes = 8 << 20
	// MaxTensorElements bounds one tensor (ConvNeXt-Base's largest has
	// about 4 million elements).
	MaxTensorElements = 1 << 28
)

// legacyProtocol is the version number a legacy torch.save file writes
// after its magic number.
const legacyProtocol = 1001

// legacyMagic is how a torch.save file of PyTorch < 1.6 starts: pickle
// protocol 2, then the magic number 0x1950a86a20f9469cfc6c as a LONG1.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// loadTorch reads a torch.save'd file. Zip files (PyTorch >= 1.6, what
// torchvision serves) are read here, every storage's declared size checked
// against its record in the zip before it is allocated; legacy files are
// recognised by their magic number and handed to gopickle. Anything else
// (an empty file, a tar archive, garbage) is refused before gopickle sees
// it, and a panic inside gopickle becomes an error (docs/DECISIONS.md).
// size is the file's size in bytes.
func loadTorch(file string) (obj any, size int64, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size = st.Size()
	head := make([]byte, len(legacyMagic))
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	defer func() {
		if p := recover(); p != nil {
			obj, size, err = nil, 0, fmt.Errorf("malformed PyTorch checkpoint (the unpickler failed: %v)", p)
		}
	}()
	switch {
	case size == 0:
		return nil, 0, fmt.Errorf("empty file, not a PyTorch checkpoint")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(f, size)
		if err != nil {
			return nil, 0, fmt.Errorf("not a PyTorch checkpoint: %w", err)
		}
		obj, err := loadTorchZip(zr, size)
		return obj, size, err
	case bytes.Equal(head, legacyMagic):
		obj, err := loadTorchLegacy(f, size)
		return obj, size, err
	}
	return nil, 0, fmt.Errorf("not a PyTorch checkpoint (neither a torch.save zip nor a legacy torch.save file)")
}

// loadTorchZip unpickles data.pkl of a torch.save zip and loads the
// storages it names from their records.
func loadTorchZip(zr *zip.Reader, fileSize int64) (any, error) {
	records := map[string]*zip.File{}
	for _, f := range zr.File {
		// torch.save stores records uncompressed: none can hold more
		// than the file (this refuses zip bombs).
		if f.UncompressedSize64 > uint64(fileSize) {
			return nil, fmt.Errorf("zip record %s declares %d bytes in a %d-byte file", f.Name, f.UncompressedSize64, fileSize)
		}
		_, name := path.Split(f.Name)
		if _, dup := records[name]; dup {
			return nil, fmt.Errorf("zip record %s appears twice", name)
		}
		records[name] = f
	}
	if _, ok := records["constants.pkl"]; ok {
		return nil, fmt.Errorf("a TorchScript archive, not a state_dict: save model.state_dict() with torch.save")
	}
	pkl, ok := records["data.pkl"]
	if !ok {
		return nil, fmt.Errorf("a zip without data.pkl, not a PyTorch checkpoint")
	}
	if pkl.UncompressedSize64 > MaxPickleBytes {
		return nil, fmt.Errorf("data.pkl of %d bytes (at most %d)", pkl.UncompressedSize64, MaxPickleBytes)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(rc, MaxPickleBytes+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	n, err := scanPickle(bufio.NewReader(bytes.NewReader(b)), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	storages := map[string]pytorch.StorageInterface{}
	u := pickle.NewUnpickler(bytes.NewReader(b[:n]))
	u.FindClass = torchClass
	u.PersistentLoad = func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
		}
		typ, _ := t.Get(0).(string)
		class, okC := t.Get(1).(pytorch.StorageClassInterface)
		key, okK := t.Get(2).(string)
		location, okL := t.Get(3).(string)
		size, okS := t.Get(4).(int)
		if typ != "storage" || !okC || !okK || !okL || !okS {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		rec, ok := records[key]
		if !ok {
			return nil, fmt.Errorf("storage %s: no such zip record", key)
		}
		elem := storageElemSize(class)
		if size < 0 || size > MaxTensorElements || uint64(size)*uint64(elem) > rec.UncompressedSize64 {
			return nil, fmt.Errorf("storage %s declares %d elements of %d bytes; its record holds %d bytes", key, size, elem, rec.UncompressedSize64)
		}
		r, err := rec.Open()
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		defer r.Close()
		s := class.New(size, location)
		if err := s.SetFromFileWithSize(fullReader{r}, size); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		storages[key] = s
		return s, nil
	}
	return u.Load()
}

// torchClass resolves the globals a state_dict pickle names: the tensor
// rebuilder and the storage types; any other becomes an inert generic
// object (nothing is ever executed).
func torchClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return &pytorch.RebuildTensorV2{}, nil
	case "torch.FloatStorage":
		return &pytorch.FloatStorageClass{}, nil
	case "torch.HalfStorage":
		return &pytorch.HalfStorageClass{}, nil
	case "torch.DoubleStorage":
		return &pytorch.DoubleStorageClass{}, nil
	case "torch.BFloat16Storage":
		return &pytorch.BFloat16StorageClass{}, nil
	case "torch.IntStorage":
		return &pytorch.IntStorageClass{}, nil
	case "torch.LongStorage":
		return &pytorch.LongStorageClass{}, nil
	case "torch.ShortStorage":
		return &pytorch.ShortStorageClass{}, nil
	case "torch.CharStorage":
		return &pytorch.CharStorageClass{}, nil
	case "torch.ByteStorage":
		return &pytorch.ByteStorageClass{}, nil
	case "torch.BoolStorage":
		return &pytorch.BoolStorageClass{}, nil
	}
	return types.NewGenericClass(module, name), nil
}

// storageElemSize is the bytes per element of a storage class in a file.
func storageElemSize(c pytorch.StorageClassInterface) int {
	switch c.(type) {
	case *pytorch.DoubleStorageClass, *pytorch.LongStorageClass:
		return 8
	case *pytorch.FloatStorageClass, *pytorch.IntStorageClass:
		return 4
	case *pytorch.HalfStorageClass, *pytorch.BFloat16StorageClass, *pytorch.ShortStorageClass:
		return 2
	}
	return 1
}

// loadTorchLegacy reads a torch.save file of PyTorch < 1.6: five pickles
// in a row (the magic number, the protocol version, the system's
// description, the object, the storage keys), then each storage as an
// 8-byte element count and its data. Every pickle is scanned before
// gopickle reads it, and every storage's size is checked against the bytes
// left in the file before it is allocated.
func loadTorchLegacy(f *os.File, size int64) (any, error) {
	var pos int64
	// next unpickles the pickle at pos, with hooks set by setup if any.
	next := func(what string, setup func(*pickle.Unpickler)) (any, error) {
		limit := min(size-pos, MaxPickleBytes)
		n, err := scanPickle(bufio.NewReader(io.NewSectionReader(f, pos, limit)), limit)
		if err != nil {
			return nil, fmt.Errorf("legacy checkpoint's %s: %w", what, err)
		}
		u := pickle.NewUnpickler(io.NewSectionReader(f, pos, n))
		if setup != nil {
			setup(&u)
		}
		obj, err := u.Load()
		if err != nil {
			return nil, fmt.Errorf("legacy checkpoint's %s: %w", what, err)
		}
		pos += n
		return obj, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if _, ok := magic.(*big.Int); !ok {
		return nil, fmt.Errorf("legacy checkpoint's magic number is %v", magic)
	}
	if proto, err := next("protocol version", nil); err != nil {
		return nil, err
	} else if proto != legacyProtocol {
		return nil, fmt.Errorf("legacy checkpoint's protocol version is %v, want %d", proto, legacyProtocol)
	}
	if _, err := next("system description", nil); err != nil {
		return nil, err
	}

	// The object's storages are allocated as the pickle names them, so
	// their total is checked against what the file holds after it.
	storages := map[string]pytorch.StorageInterface{}
	counts := map[string]int{}
	var declared int64
	hooks := func(u *pickle.Unpickler) {
		u.FindClass = torchClass
		u.PersistentLoad = func(id any) (any, error) {
			t, ok := id.(*types.Tuple)
			if !ok || t.Len() < 6 {
				return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
			}
			typ, _ := t.Get(0).(string)
			class, okC := t.Get(1).(pytorch.StorageClassInterface)
			key, okK := t.Get(2).(string)
			location, okL := t.Get(3).(string)
			n, okS := t.Get(4).(int)
			if typ != "storage" || !okC || !okK || !okL || !okS {
				return nil, fmt.Errorf("persistent id %v is not a storage tuple (a pickled module? save model.state_dict())", id)
			}
			if t.Get(5) != nil {
				return nil, fmt.Errorf("storage %s is a view (PyTorch < 0.4): load and save it again with a newer PyTorch", key)
			}
			if s, ok := storages[key]; ok {
				return s, nil
			}
			declared += int64(n) * int64(storageElemSize(class))
			if n < 0 || n > MaxTensorElements || declared > size {
				return nil, fmt.Errorf("storage %s declares %d elements of %d bytes in a %d-byte file", key, n, storageElemSize(class), size)
			}
			s := class.New(n, location)
			storages[key], counts[key] = s, n
			return s, nil
		}
	}
	obj, err := next("state_dict", hooks)
	if err != nil {
		return nil, err
	}
	if declared > size-pos {
		return nil, fmt.Errorf("legacy checkpoint's storages declare %d bytes; %d follow the pickle", declared, size-pos)
	}
	keys, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	list, ok := keys.(*types.List)
	if !ok || list.Len() != len(storages) {
		return nil, fmt.Errorf("legacy checkpoint's storage keys %v do not match its %d storages", keys, len(storages))
	}
	r := bufio.NewReader(io.NewSectionReader(f, pos, size-pos))
	for i := range list.Len() {
		key, _ := list.Get(i).(string)
		s, ok := storages[key]
		if !ok {
			return nil, fmt.Errorf("legacy checkpoint's storage key %v names no storage", list.Get(i))
		}
		var count int64
		if err := binary.Read(r, binary.LittleEndian, &count); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, truncated(err, 0))
		}
		if want := counts[key]; count != int64(want) {
			return nil, fmt.Errorf("storage %s holds %d elements; the pickle declared %d", key, count, want)
		}
		if err := s.SetFromFileWithSize(fullReader{r}, int(count)); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, truncated(err, 0))
		}
	}
	return obj, nil
}

// fullReader fills every Read it is asked for, or fails: gopickle reads
// storages with single Read calls and would take a short read for data.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) { return io.ReadFull(f.r, p) }
