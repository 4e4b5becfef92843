package session_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/png"
	"os"
	"strings"
	"testing"

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
	if want := fmt.Sprintf("own-%x", sha256.Sum256(pth))[:20]; own.Name != want || own.Model != "lenet5" || own.File != "mine.pth" {
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
	c.errorFor(`{"type":"upload"}`, "takes no pictures")
	c.errorFor(`{"type":"own-model","file":"a.pth"}`, "without -allow-model-upload")
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1}); err != nil {
		t.Fatal(err)
	}
	var e session.Error
	c.json("error", &e)
	if !strings.Contains(e.Message, "binary messages are not accepted") {
		t.Errorf("a binary message: %+v", e)
	}
}
