package session

// The wire format of the websocket, documented message by message in
// docs/PROTOCOL.md. Client messages are JSON text; server metadata is JSON
// text; pictures (input, feature maps, projections) are binary frames with a
// fixed 32-byte header. Nothing here computes: it only names and encodes.

import (
	"encoding/binary"
	"math"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/web/ownmodel"
	"github.com/convscope/convscope/web/upload"
	"github.com/convscope/convscope/zoo"
)

// Version is the protocol version announced in the hello message and in
// every binary header.
const Version = 2

// Request is any client message. Type selects which other fields count.
type Request struct {
	// Type is "run", "open", "project", "arith", "upload" or
	// "own-model"; the last two announce a binary message that follows
	// with a picture's or a model's file.
	Type string `json:"type"`

	// File is the model file's name, whose extension says how to read it
	// (own-model).
	File string `json:"file,omitempty"`

	// Model names a catalog entry; empty is the default (run).
	Model string `json:"model,omitempty"`
	// Sample is a gallery picture: "08-sneaker.png" in the model's own
	// gallery, or "fashion-mnist/08-sneaker.png" in a named one (run;
	// exactly one of Sample and Upload).
	Sample string `json:"sample,omitempty"`
	// Upload is an id returned by POST /upload (run).
	Upload string `json:"upload,omitempty"`
	// Open names the blocks whose parts the run streams too (run); names
	// that are not blocks of the model are ignored.
	Open []string `json:"open,omitempty"`

	// Run, if set, must be the number of the session's latest run (open,
	// project).
	Run *int `json:"run,omitempty"`
	// Layer is a layer's dotted name, "layer2.1.conv2" (project; for open,
	// a block's).
	Layer string `json:"layer,omitempty"`
	// Channel is the feature map (or the vector element) (project).
	Channel *int `json:"channel,omitempty"`
	// Method is the attribution method: "deconvnet" (the default) or any
	// other of Hello.Methods (project; deconv.Methods).
	Method string `json:"method,omitempty"`
	// Class, when set, makes the projection explain that class's score
	// (-1: the predicted class) instead of a unit; Grad-CAM explains it at
	// Layer, or at its default layer when Layer is empty (project).
	Class *int `json:"class,omitempty"`
	// Y and X pick a unit of the map; both absent means its strongest
	// activation (project).
	Y *int `json:"y,omitempty"`
	X *int `json:"x,omitempty"`
}

// Uploaded answers an upload message: the picture's id (its content's, so
// the same on every server), for a run's Upload.
type Uploaded struct {
	Type string `json:"type"` // "uploaded"
	upload.Result
}

// OwnModel answers an own-model message: the name a run opens the model
// by (its content's), and what the page shows of it.
type OwnModel struct {
	Type string `json:"type"` // "own-model"
	ownmodel.Result
}

// ModelRef describes a catalog entry in the hello message.
type ModelRef struct {
	Name     string   `json:"name"`
	Model    string   `json:"model"`
	Dataset  string   `json:"dataset"`
	Input    []int    `json:"input"`
	Classes  []string `json:"classes"`
	Trained  bool     `json:"trained"`
	Accuracy float64  `json:"accuracy"`
	// Gallery names the sample folder the page offers for this model
	// (a key of Hello.Galleries).
	Gallery string `json:"gallery"`
	// About is one line on the architecture.
	About string `json:"about"`
	// Source says where the weights came from (card.Card.Source):
	// "embedded weights/…", "file resnet18-f37072fd.pth", "random
	// initialisation, seed 0".
	Source string `json:"source"`
	// Variant lists the changes made to Model's architecture (the
	// training page's architecture lab), "" for none.
	Variant string `json:"variant,omitempty"`
	// Snapshots are the model's weights after some epochs of its training
	// (a run of the training page), in epoch order: a run may name one
	// as its model, with the same input, to see the maps as they were.
	Snapshots []SnapshotRef `json:"snapshots,omitempty"`
}

// SnapshotRef is one epoch's weights of a trained model.
type SnapshotRef struct {
	Name     string  `json:"name"`
	Epoch    int     `json:"epoch"`
	Accuracy float64 `json:"accuracy"`
}

// SampleRef is one gallery picture: its file and its label.
type SampleRef struct {
	File  string `json:"file"`
	Label string `json:"label"`
}

// Hello is the first message of every connection.
type Hello struct {
	Type    string     `json:"type"` // "hello"
	Version int        `json:"version"`
	Models  []ModelRef `json:"models"`
	// Galleries lists each gallery's pictures, served at
	// /samples/<gallery>/<file>.
	Galleries map[string][]SampleRef `json:"galleries"`
	// Methods are the attribution methods a projection may ask for.
	Methods []MethodRef `json:"methods"`
	// OwnModels says a visitor may upload a model of their own (POST
	// /own-model) and run it by the name the upload answers.
	OwnModels bool `json:"ownModels"`
	// Server names the replica that holds this connection (the server's
	// -replica), for a visitor's report; empty when unnamed.
	Server string `json:"server,omitempty"`
	// Request is the id of the request that opened this connection (the
	// proxy's X-Request-Id, or the server's own): the server's log lines
	// about the session carry it, and the page shows it with errors.
	Request string `json:"request,omitempty"`
}

// MethodRef describes an attribution method in the hello message.
type MethodRef struct {
	Name  string `json:"name"`
	About string `json:"about"`
	// Heat says the method's map is drawn as a heat map over the input
	// (Grad-CAM, occlusion), not as a picture shaped like it.
	Heat bool `json:"heat"`
	// Long says the method runs many passes: progress messages come
	// while it works, and a newer request stops it.
	Long bool `json:"long"`
}

// Start opens a run: the model and the plan of layers whose maps follow.
type Start struct {
	Type    string          `json:"type"` // "start"
	Run     int             `json:"run"`
	Model   string          `json:"model"`
	Input   []int           `json:"input"`
	Classes []string        `json:"classes"`
	Layers  []zoo.LayerInfo `json:"layers"`
}

// Input announces the picture the model reads; a binary frame of kind
// KindInput follows.
type Input struct {
	Type     string `json:"type"` // "input"
	Run      int    `json:"run"`
	Source   string `json:"source"` // "sample" or "upload"
	Name     string `json:"name"`
	Inverted bool   `json:"inverted"`
	Shape    []int  `json:"shape"`
}

// Layer announces one layer's output; a binary frame of kind KindMaps with
// the same run and index follows.
type Layer struct {
	Type string `json:"type"` // "layer"
	Run  int    `json:"run"`
	// Index is the layer's row in the start message's layers.
	Index int    `json:"index"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	// Shape is the row's maps, (C,H,W) or (F).
	Shape []int   `json:"shape"`
	Min   float32 `json:"min"`
	Max   float32 `json:"max"`
	// Ms is the time the layer took to compute, in milliseconds; for a
	// layer inside a block, 0 (its block's time counts it).
	Ms float64 `json:"ms"`
}

// Queued tells the page that its run waits for memory that other visitors'
// passes hold (session.Budget): Ahead runs wait before it. It is sent again
// each time the number changes; the run's start follows once it fits.
type Queued struct {
	Type  string `json:"type"` // "queued"
	Model string `json:"model"`
	Ahead int    `json:"ahead"`
}

// Progress reports a long attribution's advance (ig, smoothgrad): Done of
// Total passes. Occlusion reports its own in partial projections.
type Progress struct {
	Type   string `json:"type"` // "progress"
	Run    int    `json:"run"`
	Method string `json:"method"`
	Done   int    `json:"done"`
	Total  int    `json:"total"`
}

// Prediction ends a run with the class probabilities.
type Prediction struct {
	Type    string    `json:"type"` // "prediction"
	Run     int       `json:"run"`
	Classes []string  `json:"classes"`
	Probs   []float32 `json:"probs"`
	Top     int       `json:"top"`
	// Ms is the whole forward pass, in milliseconds.
	Ms float64 `json:"ms"`
}

// Unit names one activation in a projection message.
type Unit struct {
	Channel int `json:"channel"`
	Y       int `json:"y"`
	X       int `json:"x"`
}

// Projection describes an attribution: of a unit (Class is -1) or of a
// class; a binary frame of kind KindProjection (a PNG of the input's size)
// follows.
type Projection struct {
	Type string `json:"type"` // "projection"
	Run  int    `json:"run"`
	// Method is the attribution method (Hello.Methods).
	Method string `json:"method"`
	// Class is the class explained, -1 for a unit.
	Class int `json:"class"`
	// Layer is the unit's layer (or Grad-CAM's) and Index its row; for a
	// class without a layer, "" and -1.
	Layer      string  `json:"layer"`
	Index      int     `json:"index"`
	Unit       Unit    `json:"unit"`
	Strongest  bool    `json:"strongest"`
	Activation float32 `json:"activation"` // the unit's activation, or the class's logit
	// RF is the receptive field's side in input pixels and Whole whether
	// the unit sees the whole input; Box is the field of the unit clipped
	// to the input, [x0, y0, x1, y1) in input pixels (units only).
	RF    int    `json:"rf"`
	Whole bool   `json:"whole"`
	Box   [4]int `json:"box"`
	// Heat says the PNG is a heat map over the input: its colour goes
	// from Lo (Viridis' dark blue) to Hi (yellow), and Shape is the map's
	// own (rows, columns) before it was stretched over the input.
	// Otherwise mid grey is 0 and white +Peak (max |v|).
	Heat  bool    `json:"heat"`
	Lo    float32 `json:"lo"`
	Hi    float32 `json:"hi"`
	Shape []int   `json:"shape"`
	Peak  float32 `json:"peak"`
	// Notes name the layers on the walk back whose treatment under the
	// method is convscope's choice, not the method's paper
	// (deconv.Caveats).
	Notes []string `json:"notes,omitempty"`
	// Partial says more of the map is coming (occlusion, row by row);
	// Done of Total passes have run.
	Partial bool `json:"partial"`
	Done    int  `json:"done"`
	Total   int  `json:"total"`
}

// MaxArithTerms bounds the terms an arith answer lists (arith.Unit.Trim):
// the largest products; the others are summed.
const MaxArithTerms = arith.ShownTerms

// Arith answers an "arith" request: how one unit of the latest run was
// computed, with its numbers (package arith).
type Arith struct {
	Type string `json:"type"` // "arith"
	Run  int    `json:"run"`
	*arith.Unit
}

// Error answers a message the server could not act on. The connection
// stays open.
type Error struct {
	Type    string `json:"type"` // "error"
	Request string `json:"request,omitempty"`
	Message string `json:"message"`
}

// Binary frame kinds (byte 0 of the header).
const (
	// KindMaps carries a layer's C*H*W 8-bit maps (CHW order).
	KindMaps = 1
	// KindInput carries the model's input as C*H*W bytes, 0..255 for
	// [0,1] before normalisation.
	KindInput = 2
	// KindProjection carries a PNG of an attribution (Projection).
	KindProjection = 3
	// KindNumbers carries the attribution's own numbers, float32 little
	// endian, C*H*W of them in CHW order (the map's shape in the header):
	// the page's .npy download. It follows a whole projection's PNG.
	KindNumbers = 4
)

// MaxMapSide is the largest side of a map in a maps frame: larger maps
// (VGG-16's 224×224) travel shrunk by the maximum of s×s blocks,
// s = ceil(max(H,W)/MaxMapSide), and the frame's H and W say the shrunk
// size; the layer message's shape keeps the true one.
const MaxMapSide = 112

// HeaderSize is the length of a binary frame's header.
const HeaderSize = 32

// Header is a binary frame's header, little-endian:
//
//	offset size  field
//	0      1     kind (KindMaps, KindInput, KindProjection)
//	1      1     version (Version)
//	2      2     reserved, 0
//	4      4     run      uint32
//	8      4     index    int32 (the layer's row in start's layers; -1 for the input)
//	12     4     C        uint32
//	16     4     H        uint32
//	20     4     W        uint32
//	24     4     min      float32 (value of byte 0)
//	28     4     max      float32 (value of byte 255)
//	32     ...   payload
type Header struct {
	Kind     uint8
	Run      int
	Index    int
	C, H, W  int
	Min, Max float32
}

// Frame returns the header followed by payload.
func (h Header) Frame(payload []byte) []byte {
	b := make([]byte, HeaderSize, HeaderSize+len(payload))
	b[0], b[1] = h.Kind, Version
	le := binary.LittleEndian
	le.PutUint32(b[4:], uint32(h.Run))
	le.PutUint32(b[8:], uint32(int32(h.Index)))
	le.PutUint32(b[12:], uint32(h.C))
	le.PutUint32(b[16:], uint32(h.H))
	le.PutUint32(b[20:], uint32(h.W))
	le.PutUint32(b[24:], math.Float32bits(h.Min))
	le.PutUint32(b[28:], math.Float32bits(h.Max))
	return append(b, payload...)
}

// ParseHeader reads a frame's header and returns it with the payload; ok is
// false for a frame shorter than HeaderSize. (Used by tests and Go clients.)
func ParseHeader(frame []byte) (h Header, payload []byte, ok bool) {
	if len(frame) < HeaderSize {
		return Header{}, nil, false
	}
	le := binary.LittleEndian
	h = Header{
		Kind:  frame[0],
		Run:   int(le.Uint32(frame[4:])),
		Index: int(int32(le.Uint32(frame[8:]))),
		C:     int(le.Uint32(frame[12:])),
		H:     int(le.Uint32(frame[16:])),
		W:     int(le.Uint32(frame[20:])),
		Min:   math.Float32frombits(le.Uint32(frame[24:])),
		Max:   math.Float32frombits(le.Uint32(frame[28:])),
	}
	return h, frame[HeaderSize:], true
}
