// Package classroom lets a teacher lead a class through the pages: the
// teacher starts a class and gets a short code; students join with it,
// and the page the teacher is on (a lesson, its picture, the explorer's
// layer and unit: all of it lives in the URL) follows on every student's
// screen over a websocket, until a student steps out to explore and comes
// back. One server on a laptop, no internet: the rooms live in memory.
// Behind a proxy the classes live on one replica (docs/DEPLOY.md); the
// picture a teacher uploaded travels with the class (picture), so that a
// student whose page runs on another replica can send it there.
package classroom

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"image"
	_ "image/jpeg" // a class's picture may be a JPEG
	_ "image/png"  // or a PNG
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/web/upload"
)

// Limits, so that the rooms cannot grow without bound.
const (
	// MaxRooms is how many classes may run at once.
	MaxRooms = 64
	// MaxStudents is how many pages may follow one class.
	MaxStudents = 500
	// MaxURL bounds the page address a teacher sends.
	MaxURL = 2048
	// IdleAfter ends a class no teacher has moved for this long.
	IdleAfter = 4 * time.Hour
	// MaxPictureBytes bounds the pictures all classes keep together (each
	// class keeps its teacher's latest, at most upload.MaxBytes).
	MaxPictureBytes = 64 << 20
)

// room is one class: the teacher's token, the page it is on, and the
// students' connections.
type room struct {
	token    string
	url      string
	moved    time.Time
	students map[*websocket.Conn]chan string
	// teacher hears how many follow, when a student comes or goes (nil
	// while no teacher's page is connected).
	teacher chan Message
	// picture is the file of the picture the teacher's page shows, named
	// by its content (upload.ID), for students on other replicas.
	pictureID string
	picture   []byte
}

// tell sends the teacher the class's size, without waiting (with the
// lock held).
func (r *room) tell() {
	if r.teacher == nil {
		return
	}
	select {
	case r.teacher <- Message{Type: "students", Students: len(r.students)}:
	default:
	}
}

// Rooms are the server's classes.
type Rooms struct {
	mu    sync.Mutex
	rooms map[string]*room
	// pictureBytes is what the classes' pictures hold together.
	pictureBytes int
	now          func() time.Time
	up           websocket.Upgrader
}

// New makes an empty set of classes.
func New() *Rooms {
	return &Rooms{rooms: map[string]*room{}, now: time.Now}
}

// Routes mounts the classes.
func (rs *Rooms) Routes() chi.Router {
	r := chi.NewRouter()
	// POST / starts a class: {"code", "token"}.
	r.Post("/", rs.start)
	// GET /{code}/ws is a class's websocket: a student's (the teacher's
	// page sends its moves there too, with ?token=).
	r.Get("/{code}/ws", rs.socket)
	// GET /{code}/picture/{id} is the file of the picture the teacher
	// shows, when its id is id.
	r.Get("/{code}/picture/{id}", rs.pictureFile)
	return r
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.TrimRight(base32.StdEncoding.EncodeToString(b), "=")
}

// expire drops the classes idle for IdleAfter (with the lock held).
func (rs *Rooms) expire() {
	for code, r := range rs.rooms {
		if rs.now().Sub(r.moved) > IdleAfter {
			for c := range r.students {
				_ = c.Close()
			}
			rs.pictureBytes -= len(r.picture)
			delete(rs.rooms, code)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (rs *Rooms) start(w http.ResponseWriter, _ *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.expire()
	if len(rs.rooms) >= MaxRooms {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "too many classes on this server; try again later"})
		return
	}
	code := randomString(4)[:6]
	for rs.rooms[code] != nil {
		code = randomString(4)[:6]
	}
	r := &room{token: randomString(20), moved: rs.now(), students: map[*websocket.Conn]chan string{}}
	rs.rooms[code] = r
	writeJSON(w, http.StatusCreated, map[string]string{"code": code, "token": r.token})
}

// Message is what travels on a class's websocket: the teacher's page
// sends {"type":"follow","url":...}; every student hears the same, and on
// joining hears the page the class is on. The teacher's page also sends
// {"type":"picture","id":...} and, as the next message, binary, the file
// of the picture it shows, whose content must have that id.
type Message struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
	// ID names a picture by its content (upload.ID).
	ID string `json:"id,omitempty"`
	// Students, in the teacher's answers, is how many follow.
	Students int    `json:"students,omitempty"`
	Error    string `json:"error,omitempty"`
}

// checkURL accepts a path of this site (no scheme, no host), so that a
// class leads only to its own server's pages.
func checkURL(s string) error {
	if len(s) > MaxURL {
		return errors.New("the page's address is too long")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(s, "//") {
		return errors.New("a class follows this server's pages only")
	}
	return nil
}

func (rs *Rooms) socket(w http.ResponseWriter, req *http.Request) {
	code := strings.ToUpper(chi.URLParam(req, "code"))
	token := req.URL.Query().Get("token")
	rs.mu.Lock()
	r := rs.rooms[code]
	teacher := r != nil && token != "" && token == r.token
	full := r != nil && !teacher && len(r.students) >= MaxStudents
	rs.mu.Unlock()
	switch {
	case r == nil:
		http.Error(w, "no class "+code+" on this server", http.StatusNotFound)
		return
	case token != "" && !teacher:
		http.Error(w, "that is not this class's teacher", http.StatusForbidden)
		return
	case full:
		http.Error(w, "this class is full", http.StatusServiceUnavailable)
		return
	}
	conn, err := rs.up.Upgrade(w, req, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(MaxURL + 256)
	if teacher {
		rs.lead(conn, code, r)
		return
	}
	rs.follow(conn, r)
}

// lead reads the teacher's moves and tells every student; one writer
// goroutine answers the teacher (the moves' echoes, the class's size).
func (rs *Rooms) lead(conn *websocket.Conn, code string, r *room) {
	out := make(chan Message, 8)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case m := <-out:
				if err := conn.WriteJSON(m); err != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()
	rs.mu.Lock()
	r.teacher = out
	r.tell()
	rs.mu.Unlock()
	defer func() {
		rs.mu.Lock()
		if r.teacher == out {
			r.teacher = nil
		}
		rs.mu.Unlock()
	}()
	reply := func(m Message) {
		select {
		case out <- m:
		default:
		}
	}
	for {
		var m Message
		if err := conn.ReadJSON(&m); err != nil {
			return
		}
		if m.Type == "picture" {
			if err := rs.takePicture(conn, code, r, m.ID); err != nil {
				reply(Message{Type: "error", Error: err.Error()})
			}
			conn.SetReadLimit(MaxURL + 256)
			continue
		}
		if m.Type != "follow" {
			reply(Message{Type: "error", Error: `want {"type":"follow","url":...} or {"type":"picture","id":...}`})
			continue
		}
		if err := checkURL(m.URL); err != nil {
			reply(Message{Type: "error", Error: err.Error()})
			continue
		}
		rs.mu.Lock()
		if rs.rooms[code] != r {
			rs.mu.Unlock()
			return // the class has ended
		}
		r.url, r.moved = m.URL, rs.now()
		for _, ch := range r.students {
			select {
			case ch <- m.URL:
			default: // a slow student catches up with the next move
			}
		}
		n := len(r.students)
		rs.mu.Unlock()
		reply(Message{Type: "following", URL: m.URL, Students: n})
	}
}

// takePicture reads the binary message after a picture announcement: the
// file of the picture named id, kept as the class's picture when its
// content has that id and the classes' pictures have room.
func (rs *Rooms) takePicture(conn *websocket.Conn, code string, r *room, id string) error {
	conn.SetReadLimit(upload.MaxBytes)
	_ = conn.SetReadDeadline(time.Now().Add(upload.DefaultReadWait))
	defer conn.SetReadDeadline(time.Time{})
	kind, b, err := conn.ReadMessage()
	switch {
	case err != nil:
		return err
	case kind != websocket.BinaryMessage:
		return errors.New("the picture's bytes did not follow as one binary message")
	case upload.ID(b) != id:
		return errors.New("the picture's bytes do not have the id announced")
	}
	// Only a PNG or a JPEG is kept: the file is served from this site.
	if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || format != "png" && format != "jpeg" {
		return errors.New("the class's picture must be a PNG or a JPEG")
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.rooms[code] != r {
		return errors.New("the class has ended")
	}
	if rs.pictureBytes-len(r.picture)+len(b) > MaxPictureBytes {
		return errors.New("the server keeps too many classes' pictures; students on other servers will see the gallery's")
	}
	rs.pictureBytes += len(b) - len(r.picture)
	r.pictureID, r.picture = id, b
	return nil
}

// pictureFile answers the class's picture when it has the id asked.
func (rs *Rooms) pictureFile(w http.ResponseWriter, req *http.Request) {
	code, id := strings.ToUpper(chi.URLParam(req, "code")), chi.URLParam(req, "id")
	rs.mu.Lock()
	var b []byte
	if r := rs.rooms[code]; r != nil && r.pictureID == id {
		b = r.picture
	}
	rs.mu.Unlock()
	if b == nil {
		http.Error(w, "class "+code+" shows no picture "+id, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(b)) // image/png or image/jpeg, as takePicture checked
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(b)
}

// follow sends a student the class's page now and at every move.
func (rs *Rooms) follow(conn *websocket.Conn, r *room) {
	ch := make(chan string, 1)
	rs.mu.Lock()
	r.students[conn] = ch
	current := r.url
	r.tell()
	rs.mu.Unlock()
	defer func() {
		rs.mu.Lock()
		delete(r.students, conn)
		r.tell()
		rs.mu.Unlock()
	}()
	gone := make(chan struct{})
	go func() { // a student sends nothing; reading notices a close
		defer close(gone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if current != "" {
		if err := conn.WriteJSON(Message{Type: "follow", URL: current}); err != nil {
			return
		}
	}
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case u := <-ch:
			if err := conn.WriteJSON(Message{Type: "follow", URL: u}); err != nil {
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
				return
			}
		case <-gone:
			return
		}
	}
}
