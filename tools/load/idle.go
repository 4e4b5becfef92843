package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// idleDialer opens the idle websockets: small buffers, since thousands
// of them only ever read a hello and pings.
var idleDialer = &websocket.Dialer{HandshakeTimeout: 15 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256}

// dialsAtOnce bounds the idle websockets being opened at once, so that
// thousands do not all knock at the same moment.
const dialsAtOnce = 64

// idle opens n websockets that hear the server's hello and then only
// answer its pings, and holds them until ctx ends. g records the time to
// each hello, refusals as errors, and how each connection ended: "held to
// the end", or closed by the server (with its close code) before it,
// each with the time it was open. A server at its cap of sessions may
// refuse the upgrade (an HTTP status) or accept it only to close it
// (close 1013, try again later): both are counted as refusals.
func idle(ctx context.Context, base string, n int, g *group) {
	slots := make(chan struct{}, dialsAtOnce)
	var wg sync.WaitGroup
	for range n {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			conn, opened := hello(ctx, base, g)
			<-slots
			if conn == nil {
				return
			}
			hold(ctx, conn, opened, g)
		})
	}
	wg.Wait()
}

// hello opens one idle websocket and reads the server's hello, recording
// the time it took or why it failed; nil when it failed.
func hello(ctx context.Context, base string, g *group) (*websocket.Conn, time.Time) {
	begin := time.Now()
	conn, err := dial(ctx, idleDialer, base)
	if err != nil {
		if ctx.Err() == nil {
			g.record(0, err)
		}
		return nil, begin
	}
	m, _, err := next(conn)
	if err == nil && m.Type != "hello" {
		err = errors.New("the first message is not a hello: " + m.Type)
	}
	if err != nil {
		conn.Close()
		if ctx.Err() == nil {
			g.record(0, errors.New("closed before the hello: "+describe(err)))
		}
		return nil, begin
	}
	g.record(time.Since(begin), nil)
	return conn, begin
}

// hold keeps an idle websocket open, answering pings, until ctx ends
// (then it says goodbye) or the server closes it, and records which.
func hold(ctx context.Context, conn *websocket.Conn, opened time.Time, g *group) {
	stop := context.AfterFunc(ctx, func() {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "load over"),
			time.Now().Add(time.Second))
		conn.Close()
	})
	defer stop()
	defer conn.Close()
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if ctx.Err() != nil {
				g.end("held to the end", time.Since(opened))
			} else {
				g.end("closed by the server: "+describe(err), time.Since(opened))
			}
			return
		}
	}
}
