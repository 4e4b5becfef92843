package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/convscope/convscope/web/ownmodel"
	"github.com/convscope/convscope/web/upload"
)

// receiveWait bounds the time a file of kind takes to arrive on the
// websocket, as a POST's does: a picture upload.DefaultReadWait, a model
// ownmodel.ReadWait. Pongs do not extend it.
func receiveWait(kind string) time.Duration {
	if kind == "own-model" {
		return ownmodel.ReadWait
	}
	return upload.DefaultReadWait
}

// announce takes an upload or own-model message: the file follows as the
// next message, binary. A refused announcement's file is dropped unread
// (the refusal was the answer).
func (s *session) announce(req Request) (err error) {
	defer func() {
		if err != nil {
			s.expect = &Request{Type: req.Type, File: discard}
		}
	}()
	switch {
	case req.Model != "" || req.Sample != "" || req.Upload != "" || req.Open != nil || req.Run != nil || req.Layer != "" ||
		req.Channel != nil || req.Method != "" || req.Class != nil || req.Y != nil || req.X != nil:
		return fmt.Errorf("%s takes file only", req.Type)
	case req.Type == "upload" && req.File != "":
		return errors.New(`upload is a picture: it takes no "file" (a model is sent with own-model)`)
	case req.Type == "upload" && s.h.Pictures == nil:
		return errors.New("this server takes no pictures on the websocket")
	case req.Type == "own-model" && (s.h.ModelFiles == nil || !s.h.OwnModels):
		return errors.New("this server takes no models of visitors' own (it was started without -allow-model-upload)")
	case req.Type == "own-model" && req.File == "":
		return errors.New(`own-model needs "file", the file's name (its extension says how to read it)`)
	}
	s.expect = &req
	return nil
}

// discard marks an expected file that is dropped unanswered.
const discard = "\x00discard"

// fileLimit is the largest file an announcement of kind accepts.
func fileLimit(kind string) int64 {
	if kind == "own-model" {
		return ownmodel.MaxBytes
	}
	return upload.MaxBytes
}

// readLimit is the largest next message read at all: past it the
// connection closes (1009). Past twice a file's limit too, so that a file
// a little too big is drained and refused, the connection kept.
func (s *session) readLimit() int64 {
	if s.expect != nil {
		return 2 * fileLimit(s.expect.Type)
	}
	return hardLimit
}

// receive reads the file up announced from r and answers uploaded or
// own-model, or an error for up's type; the error it returns is only a
// failure to read or to send, which ends the connection.
func (s *session) receive(up *Request, r io.Reader) error {
	if up.File == discard {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	// A pong must not move the file's deadline (a sender trickling the
	// file in pieces, with a pong between them, would hold its share of
	// the upload budget forever).
	deadline := time.Now().Add(receiveWait(up.Type))
	_ = s.conn.SetReadDeadline(deadline)
	s.conn.SetPongHandler(func(string) error { return nil })
	defer s.conn.SetPongHandler(s.pong)
	var reply any
	var err error
	if up.Type == "own-model" {
		var res ownmodel.Result
		res, err = s.h.ModelFiles.Take(up.File, r)
		reply = OwnModel{Type: "own-model", Result: res}
	} else {
		var res upload.Result
		res, err = s.h.Pictures.Take(context.Background(), r)
		reply = Uploaded{Type: "uploaded", Result: res}
	}
	// What Take left (a file over the limit) is drained: the connection
	// stays usable.
	if _, derr := io.Copy(io.Discard, r); derr != nil {
		s.log.Info("upload over the read limit, closing", "type", up.Type, "err", derr)
		return derr
	}
	if err != nil {
		return s.pushJSON(Error{Type: "error", Request: up.Type, Message: err.Error()})
	}
	return s.pushJSON(reply)
}
