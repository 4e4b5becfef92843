package classroom

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func startClass(t *testing.T, srv *httptest.Server) (code, token string) {
	t.Helper()
	res, err := http.Post(srv.URL+"/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusCreated || len(body["code"]) != 6 || len(body["token"]) < 20 {
		t.Fatalf("start: %d %v", res.StatusCode, body)
	}
	return body["code"], body["token"]
}

func dial(t *testing.T, srv *httptest.Server, path string) *websocket.Conn {
	t.Helper()
	c, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+path, nil)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", path, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) Message {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m Message
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A teacher's moves reach every student; a student who joins late hears
// the page the class is on; only this server's pages are followed.
func TestStudentsFollowTheTeacher(t *testing.T) {
	srv := httptest.NewServer(New().Routes())
	defer srv.Close()
	code, token := startClass(t, srv)
	teacher := dial(t, srv, "/"+code+"/ws?token="+token)
	if m := read(t, teacher); m.Type != "students" || m.Students != 0 {
		t.Errorf("the teacher starts with %+v", m)
	}
	early := dial(t, srv, "/"+strings.ToLower(code)+"/ws")
	if m := read(t, teacher); m.Type != "students" || m.Students != 1 {
		t.Errorf("the teacher hears of the student as %+v", m)
	}
	if err := teacher.WriteJSON(Message{Type: "follow", URL: "/learn/basics?sample=08-sneaker.png&lang=vi"}); err != nil {
		t.Fatal(err)
	}
	if m := read(t, teacher); m.Type != "following" || m.Students != 1 {
		t.Errorf("the teacher hears %+v", m)
	}
	if m := read(t, early); m.Type != "follow" || m.URL != "/learn/basics?sample=08-sneaker.png&lang=vi" {
		t.Errorf("the student hears %+v", m)
	}
	late := dial(t, srv, "/"+code+"/ws")
	if m := read(t, late); m.URL != "/learn/basics?sample=08-sneaker.png&lang=vi" {
		t.Errorf("a late student starts at %+v", m)
	}
	if m := read(t, teacher); m.Students != 2 {
		t.Errorf("the teacher hears %+v", m)
	}
	for _, bad := range []string{"https://evil.example/", "//evil.example/x", "javascript:alert(1)", "learn", "/" + strings.Repeat("a", MaxURL)} {
		_ = teacher.WriteJSON(Message{Type: "follow", URL: bad})
		if m := read(t, teacher); m.Type != "error" {
			t.Errorf("%.40q was followed: %+v", bad, m)
		}
	}
	_ = teacher.WriteJSON(Message{Type: "follow", URL: "/?model=resnet20-fashion-mnist&layer=layer1.0&channel=3"})
	read(t, teacher)
	for _, s := range []*websocket.Conn{early, late} {
		if m := read(t, s); m.URL != "/?model=resnet20-fashion-mnist&layer=layer1.0&channel=3" {
			t.Errorf("a student hears %+v", m)
		}
	}
}

func TestRefusals(t *testing.T) {
	rs := New()
	srv := httptest.NewServer(rs.Routes())
	defer srv.Close()
	code, _ := startClass(t, srv)
	for path, want := range map[string]int{"/ZZZZZZ/ws": http.StatusNotFound, "/" + code + "/ws?token=guess": http.StatusForbidden} {
		_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+path, nil)
		if err == nil || res == nil || res.StatusCode != want {
			t.Errorf("%s: %v, want %d", path, err, want)
		}
	}
	for len(rs.rooms) < MaxRooms {
		startClass(t, srv)
	}
	res, err := http.Post(srv.URL+"/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("class %d: %d", MaxRooms+1, res.StatusCode)
	}
	// idle classes end and make room
	rs.now = func() time.Time { return time.Now().Add(IdleAfter + time.Minute) }
	startClass(t, srv)
	if len(rs.rooms) != 1 {
		t.Errorf("%d classes after the idle ones ended", len(rs.rooms))
	}
}

// The teacher's page sends the picture it shows; students fetch it by its
// id (to send it to the replica their page runs on). Bytes that do not
// have the id announced are refused.
func TestClassPicture(t *testing.T) {
	srv := httptest.NewServer(New().Routes())
	defer srv.Close()
	code, token := startClass(t, srv)
	teacher := dial(t, srv, "/"+code+"/ws?token="+token)
	read(t, teacher) // the class's size
	var pic bytes.Buffer
	if err := pngEncode(&pic); err != nil {
		t.Fatal(err)
	}
	picture := pic.Bytes()
	id := fmt.Sprintf("%x", sha256.Sum256(picture))[:32]
	get := func(id string) (int, []byte) {
		t.Helper()
		res, err := http.Get(srv.URL + "/" + code + "/picture/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if code, _ := get(id); code != http.StatusNotFound {
		t.Fatalf("before the teacher sent it: %d", code)
	}
	send := func(id string, b []byte) {
		t.Helper()
		if err := teacher.WriteJSON(Message{Type: "picture", ID: id}); err != nil {
			t.Fatal(err)
		}
		if err := teacher.WriteMessage(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	send(id, picture)
	// A move after it: its echo says the picture was taken first.
	if err := teacher.WriteJSON(Message{Type: "follow", URL: "/?upload=" + id}); err != nil {
		t.Fatal(err)
	}
	if m := read(t, teacher); m.Type != "following" {
		t.Fatalf("after the picture: %+v", m)
	}
	if status, b := get(id); status != http.StatusOK || string(b) != string(picture) {
		t.Fatalf("the class's picture: %d %q", status, b)
	}
	if status, _ := get(strings.Repeat("0", 32)); status != http.StatusNotFound {
		t.Errorf("another id: %d", status)
	}
	send(strings.Repeat("f", 32), []byte("other bytes"))
	if m := read(t, teacher); m.Type != "error" || !strings.Contains(m.Error, "do not have the id") {
		t.Errorf("bytes of another id: %+v", m)
	}
	if status, _ := get(id); status != http.StatusOK {
		t.Errorf("the refused bytes replaced the picture: %d", status)
	}
	// A page of HTML is no picture: the site would serve it.
	page := []byte("<html><body>log in here</body></html>")
	send(fmt.Sprintf("%x", sha256.Sum256(page))[:32], page)
	if m := read(t, teacher); m.Type != "error" || !strings.Contains(m.Error, "PNG or a JPEG") {
		t.Errorf("HTML bytes: %+v", m)
	}
}

func pngEncode(w io.Writer) error {
	img := image.NewGray(image.Rect(0, 0, 3, 2))
	img.Pix[2] = 200
	return png.Encode(w, img)
}
