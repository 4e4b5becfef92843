package session_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/upload"
)

// sendFile sends an announcement and the file's bytes as one binary message.
func (c *client) sendFile(announce string, body []byte) {
	c.t.Helper()
	c.send(announce)
	if err := c.conn.WriteMessage(websocket.BinaryMessage, body); err != nil {
		c.t.Fatal(err)
	}
}

// A picture sent on the websocket is stored under its content's id and
// runs on that connection: no POST, so no proxy can send it elsewhere.
func TestUploadOnTheSocket(t *testing.T) {
	f := serveModel(t, "lenet5", nil, func(h *session.Handler) { h.OwnModels = true })
	c := f.dial(t)
	var pic bytes.Buffer
	if err := png.Encode(&pic, sampleImage()); err != nil {
		t.Fatal(err)
	}
	c.sendFile(`{"type":"upload"}`, pic.Bytes())
	var up session.Uploaded
	c.json("uploaded", &up)
	if want := fmt.Sprintf("%x", sha256.Sum256(pic.Bytes()))[:32]; up.ID != want || up.Width != 28 || up.Height != 28 {
		t.Fatalf("uploaded %+v, want id %s (the bytes' SHA-256) and 28x28", up, want)
	}
	c.run(f, `{"type":"run","upload":"`+up.ID+`"}`)

	// Refusals leave the connection working.
	c.sendFile(`{"type":"upload"}`, []byte("not a picture"))
	var e session.Error
	c.json("error", &e)
	if e.Request != "upload" || !strings.Contains(e.Message, "not a PNG or JPEG") {
		t.Errorf("junk: %+v", e)
	}
	c.sendFile(`{"type":"upload"}`, bytes.Repeat([]byte{0x89}, upload.MaxBytes+100))
	c.json("error", &e)
	if !strings.Contains(e.Message, "larger than 5 MB") {
		t.Errorf("a 5 MB + 100 file: %+v", e)
	}
	c.send(`{"type":"upload"}`)
	c.errorFor(`{"type":"run","upload":"`+up.ID+`"}`, "the file did not follow")
	c.json("start", &session.Start{}) // the run itself goes on
	for {
		kind, b := c.next()
		if kind == websocket.TextMessage && bytes.Contains(b, []byte(`"prediction"`)) {
			break
		}
	}
	c.errorFor(`{"type":"upload","file":"x.png"}`, `takes no "file"`)
	c.errorFor(`{"type":"upload","model":"x"}`, "takes file only")
	c.errorFor(`{"type":"own-model"}`, `needs "file"`)
	c.errorFor(`{"type":"run","sample":"00-coat.png","file":"x.pth"}`, "a run takes")

	// A model file the same way, run by the name it answers.
	pth, err := os.ReadFile("../../zoo/testdata/lenet5.pth")
	if err != nil {
		t.Fatal(err)
	}
	c.sendFile(`{"type":"own-model","file":"mine.pth"}`, pth)
	var own session.OwnModel
	c.json("own-model", &own)
	if want := fmt.Sprintf("own-%x", sha256.Sum256(pth))[:36]; own.Name != want || own.Model != "lenet5" || own.File != "mine.pth" {
		t.Fatalf("own-model %+v, want %s", own, want)
	}
	c.send(`{"type":"run","model":"` + own.Name + `","upload":"` + up.ID + `"}`)
	var start session.Start
	c.json("start", &start)
	if start.Model != own.Name {
		t.Errorf("the run started on %q", start.Model)
	}
}

// Without a Pictures or ModelFiles, the announcements are refused and the
// file that follows is answered as any binary message.
func TestUploadOnTheSocketOff(t *testing.T) {
	f := serveModel(t, "lenet5", nil, func(h *session.Handler) { h.Pictures = nil })
	c := f.dial(t)
	// A refused announcement's file is dropped: the refusal was its answer.
	c.errorFor(`{"type":"upload"}`, "takes no pictures")
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	c.errorFor(`{"type":"own-model","file":"a.pth"}`, "without -allow-model-upload")
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1}); err != nil {
		t.Fatal(err)
	}
	// A binary message nobody announced is an error.
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1}); err != nil {
		t.Fatal(err)
	}
	var e session.Error
	c.json("error", &e)
	if !strings.Contains(e.Message, "binary messages are not accepted") {
		t.Errorf("a binary message: %+v", e)
	}
}

// A file must arrive within its deadline: pongs between its pieces do not
// extend it, so a trickling sender cannot hold its share of the budget.
func TestUploadTrickleIsCut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 15 s deadline")
	}
	f := newFixture(t)
	// A one-byte write buffer: each byte goes out as a frame of its own.
	d := websocket.Dialer{WriteBufferSize: 1}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, _, err := conn.ReadMessage(); err != nil { // hello
		t.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"upload"}`)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { // the server's answers, until it closes
		defer close(closed)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	w, err := conn.NextWriter(websocket.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
trickle:
	for time.Since(start) < 25*time.Second {
		if _, err := w.Write([]byte{0x89}); err != nil {
			break
		}
		_ = conn.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
		select {
		case <-closed:
			break trickle
		case <-time.After(500 * time.Millisecond):
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("a file trickled with pongs was read for %s; the deadline is %s", took, upload.DefaultReadWait)
	}
}
