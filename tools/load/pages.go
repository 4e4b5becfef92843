package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// message is what a page reads of the server's JSON messages.
type message struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Run     int    `json:"run"`
	Layers  []row  `json:"layers"`
	ID      string `json:"id"` // an uploaded picture's
}

// row is what a page reads of a row of start.layers.
type row struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// serverError is an error message the server answered a request with.
type serverError string

func (e serverError) Error() string { return string(e) }

// page is one visitor: it runs the picture on its group's models in turn
// until ctx ends, recording the time from each request to its prediction,
// and, when the group projects, the time from a projection request to its
// picture. A connection lost before ctx ends is counted as an error; a
// picture the server no longer keeps is sent again. The picture travels on
// the page's websocket, as the explorer sends it, so the load passes
// through a proxy in front of several replicas (docs/DEPLOY.md).
func page(ctx context.Context, base string, picture []byte, g *group, k int) {
	conn, err := dial(ctx, websocket.DefaultDialer, base)
	if err != nil {
		g.record(0, err)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	id, err := sendPicture(conn, picture)
	if err != nil {
		if ctx.Err() == nil {
			g.record(0, err)
		}
		return
	}
	lost := func(err error) {
		if ctx.Err() == nil {
			g.record(0, fmt.Errorf("connection lost: %s", describe(err)))
		}
	}
	for i := k; ctx.Err() == nil; i++ {
		model := g.models[i%len(g.models)]
		begin := time.Now()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"run","model":%q,"upload":%q}`, model, id))); err != nil {
			lost(err)
			return
		}
		start, err := awaitPrediction(conn)
		var refused serverError
		switch {
		case errors.As(err, &refused) && strings.HasPrefix(err.Error(), "no upload "):
			// The store kept newer uploads instead (-uploads): like the
			// explorer page, send the picture again.
			if id, err = sendPicture(conn, picture); err != nil {
				g.record(0, err)
				return
			}
			g.end("picture evicted from the store, uploaded again", time.Since(begin))
			continue
		case errors.As(err, &refused):
			g.record(0, err)
			continue
		case err != nil:
			lost(err)
			return
		}
		g.record(time.Since(begin), nil)
		if g.proj == nil {
			continue
		}
		layer := chooseLayer(start.Layers)
		if layer == "" {
			g.proj.record(0, fmt.Errorf("%s: no layer to project", model))
			continue
		}
		begin = time.Now()
		req := fmt.Sprintf(`{"type":"project","run":%d,"layer":%q,"channel":0,"method":"deconvnet"}`, start.Run, layer)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
			lost(err)
			return
		}
		err = awaitProjection(conn)
		switch {
		case errors.As(err, &refused):
			g.proj.record(0, err)
		case err != nil:
			lost(err)
			return
		default:
			g.proj.record(time.Since(begin), nil)
		}
	}
}

// dial opens a websocket to the server's /ws; a refused upgrade's error
// gives the status and the start of the server's answer.
func dial(ctx context.Context, d *websocket.Dialer, base string) (*websocket.Conn, error) {
	conn, res, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err == nil {
		return conn, nil
	}
	if res != nil {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		return nil, fmt.Errorf("refused %d %s: %s", res.StatusCode, http.StatusText(res.StatusCode), strings.TrimSpace(string(b)))
	}
	return nil, errors.New(describe(err))
}

// awaitPrediction reads a run's answer up to its prediction and returns
// its start message; an error message the server answers instead is a
// serverError, any other error the connection's.
func awaitPrediction(conn *websocket.Conn) (message, error) {
	var start message
	for {
		m, _, err := next(conn)
		switch {
		case err != nil:
			return start, err
		case m.Type == "start":
			start = m
		case m.Type == "prediction":
			return start, nil
		case m.Type == "error":
			return start, serverError(m.Message)
		}
	}
}

// sendPicture sends a picture on the websocket (an upload message and its
// bytes) and returns the id the server answers.
func sendPicture(conn *websocket.Conn, picture []byte) (string, error) {
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"upload"}`)); err != nil {
		return "", err
	}
	if err := conn.WriteMessage(websocket.BinaryMessage, picture); err != nil {
		return "", err
	}
	for {
		m, _, err := next(conn)
		switch {
		case err != nil:
			return "", err
		case m.Type == "uploaded":
			return m.ID, nil
		case m.Type == "error":
			return "", serverError(m.Message)
		}
	}
}

// awaitProjection reads a projection's answer up to its PNG.
func awaitProjection(conn *websocket.Conn) error {
	for {
		m, frame, err := next(conn)
		switch {
		case err != nil:
			return err
		case len(frame) > 0 && frame[0] == 3: // kind 3, the projection
			return nil
		case m.Type == "error":
			return serverError(m.Message)
		}
	}
}

// next reads the next message: a JSON one decoded, or a binary frame.
func next(conn *websocket.Conn) (message, []byte, error) {
	var m message
	kind, b, err := conn.ReadMessage()
	if err != nil || kind == websocket.BinaryMessage {
		return m, b, err
	}
	_ = json.Unmarshal(b, &m)
	return m, nil, nil
}

// chooseLayer picks the row a page projects: the middle one of the
// model's convolutions (nested ones too, in start.layers' order), or the
// middle row when there is none; "" for no rows.
func chooseLayer(rows []row) string {
	var convs []string
	for _, r := range rows {
		if r.Type == "Conv2d" {
			convs = append(convs, r.Name)
		}
	}
	if len(convs) > 0 {
		return convs[(len(convs)-1)/2]
	}
	if len(rows) > 0 {
		return rows[(len(rows)-1)/2].Name
	}
	return ""
}
