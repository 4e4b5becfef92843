package web_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/upload"
)

// newRouter is the whole web side as the server wires it: the embedded
// trained models, assets and sample gallery.
func newRouter(t testing.TB) (http.Handler, *upload.Store) {
	t.Helper()
	return newRouterWith(t, nil)
}

// newRouterWith is newRouter with Deps changed by set first (if not nil).
func newRouterWith(t testing.TB, set func(*web.Deps)) (http.Handler, *upload.Store) {
	t.Helper()
	models, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	models.AddZoo()
	sampleFS, err := fs.Sub(static.FS, "samples")
	if err != nil {
		t.Fatal(err)
	}
	store := upload.NewStore(16, time.Hour)
	d := web.Deps{
		Catalog: models,
		Gallery: samples.New(sampleFS),
		Uploads: store,
		Static:  static.FS,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Scans stay with the test, not in ~/.cache.
		ScanCache: t.TempDir(),
	}
	if set != nil {
		set(&d)
	}
	return web.NewRouter(d), store
}

func serve(h http.Handler, method, path string, body io.Reader) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, body))
	return rec
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugePNG writes a valid, fully black w×h grey PNG without holding its
// pixels: rows are streamed through zlib, so 10000x10000 is about 100 KB.
func hugePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], crc.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	bw := bufio.NewWriter(zw)
	row := make([]byte, w+1) // filter byte 0, then black pixels
	for range h {
		bw.Write(row)
	}
	bw.Flush()
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("error body %q is not {\"error\": ...}", rec.Body.String())
	}
	return e.Error
}

func TestUploadLimits(t *testing.T) {
	h, store := newRouter(t)
	goods := 0
	good := func() {
		t.Helper()
		goods++ // a picture of its own each time: the same bytes are one picture
		rec := serve(h, "POST", "/upload", bytes.NewReader(pngBytes(t, image.NewGray(image.Rect(0, 0, 40+goods, 30)))))
		if rec.Code != http.StatusOK {
			t.Fatalf("a normal upload after a bad one: %d %s", rec.Code, rec.Body)
		}
	}
	big := hugePNG(t, 10000, 10000)
	if len(big) > 1<<20 {
		t.Fatalf("the 10000x10000 PNG is %d bytes; it should be small on disk", len(big))
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(big)); err != nil || cfg.Width != 10000 {
		t.Fatalf("hugePNG is not a PNG: %v %v", cfg, err)
	}
	for _, tc := range []struct {
		name   string
		body   io.Reader
		status int
		msg    string
	}{
		{"not an image", strings.NewReader("hello, I am a text file\n"), http.StatusUnsupportedMediaType, "not a PNG or JPEG"},
		{"a GIF", strings.NewReader("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), http.StatusUnsupportedMediaType, "not a PNG or JPEG"},
		{"20 MB body", io.LimitReader(zeros{}, 20<<20), http.StatusRequestEntityTooLarge, "larger than 5 MB"},
		{"10000x10000 PNG", bytes.NewReader(big), http.StatusUnprocessableEntity, "10000x10000 pixels; the limit is 4096x4096"},
		{"truncated PNG", bytes.NewReader(pngBytes(t, image.NewGray(image.Rect(0, 0, 50, 50)))[:60]), http.StatusUnprocessableEntity, "damaged"},
		{"empty body", strings.NewReader(""), http.StatusBadRequest, "empty"},
	} {
		rec := serve(h, "POST", "/upload", tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.status, rec.Body)
		} else if msg := decodeError(t, rec); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: message %q, want it to mention %q", tc.name, msg, tc.msg)
		}
		good()
	}
	if rec := serve(h, "GET", "/upload", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /upload: %d, want 405", rec.Code)
	}
	if store.Len() != 6 {
		t.Errorf("store holds %d pictures, want the 6 good ones", store.Len())
	}
	// The same file again is the same picture, under the same id.
	again := serve(h, "POST", "/upload", bytes.NewReader(pngBytes(t, image.NewGray(image.Rect(0, 0, 41, 30)))))
	if again.Code != http.StatusOK || store.Len() != 6 {
		t.Errorf("the first good picture again: %d, the store holds %d, want still 6", again.Code, store.Len())
	}
}

// paperJPEG is a photo of a dark shoe on white paper, 600x400.
func paperJPEG(t *testing.T) []byte {
	t.Helper()
	photo := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for y := range 400 {
		for x := range 600 {
			c := color.RGBA{250, 250, 245, 255}
			if x > 150 && x < 450 && y > 150 && y < 300 {
				c = color.RGBA{30, 30, 40, 255}
			}
			photo.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, photo, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// An upload is stored shrunk and as it is: a bright-bordered photo is
// reported, not inverted (a run decides that per model).
func TestUploadStoresShrunkAsUploaded(t *testing.T) {
	h, store := newRouter(t)
	rec := serve(h, "POST", "/upload", bytes.NewReader(paperJPEG(t)))
	var res map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	id, _ := res["id"].(string)
	if res["bright_border"] != true || res["width"] != 600.0 || res["height"] != 400.0 || len(id) != 32 {
		t.Fatalf("answer %v, want a bright-bordered 600x400 picture", res)
	}
	if _, ok := res["inverted"]; ok {
		t.Fatalf("answer %v still says inverted", res)
	}
	img, ok := store.Get(id)
	if !ok || img.Bounds().Dx() != 384 || img.Bounds().Dy() != 256 {
		t.Fatalf("stored %v ok=%v, want 384x256 (the shorter side at card.KeepShort)", img.Bounds(), ok)
	}
	if r, _, _, _ := img.At(0, 0).RGBA(); r>>8 < 235 {
		t.Fatalf("the paper is stored as %d, want it white as uploaded", r>>8)
	}
	// A drawing (white strokes on black) has no bright border.
	d := image.NewGray(image.Rect(0, 0, 280, 280))
	for i := 60; i < 220; i++ {
		d.SetGray(i, i, color.Gray{255})
	}
	rec = serve(h, "POST", "/upload", bytes.NewReader(pngBytes(t, d)))
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res["bright_border"] != false {
		t.Fatalf("drawing upload: %s", rec.Body)
	}
}

// A run inverts a bright-bordered upload for a model of light objects on
// black (LeNet-5 on Fashion-MNIST), and only for such a model: a
// three-channel network sees the photo as it is.
func TestRunInvertsPerModel(t *testing.T) {
	h, _ := newRouter(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	rec := serve(h, "POST", "/upload", bytes.NewReader(paperJPEG(t)))
	var res struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.ID == "" {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range []struct {
		model    string
		inverted bool
	}{
		{"lenet5-fashion-mnist", true},
		{"lenet5-mnist", true},
		{"resnet20_b", false},
		{"resnet18", false},
	} {
		if err := conn.WriteJSON(map[string]string{"type": "run", "model": tc.model, "upload": res.ID}); err != nil {
			t.Fatal(err)
		}
		in := readUntil(t, conn, "input")
		if in["inverted"] != tc.inverted {
			t.Errorf("%s: input %v, want inverted %v", tc.model, in, tc.inverted)
		}
		// The picture as the model sees it: the corner is the paper, dark
		// once inverted, else still light.
		_, frame, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		corner := frame[len(frame)-inputPixels(in)]
		if (corner < 40) != tc.inverted || (corner > 215) == tc.inverted {
			t.Errorf("%s: the paper's corner reaches the model as %d (inverted %v)", tc.model, corner, tc.inverted)
		}
		readUntil(t, conn, "prediction")
	}
}

// readUntil reads the websocket's messages until a JSON one of type typ,
// which it returns; an "error" message fails the test.
func readUntil(t *testing.T, conn *websocket.Conn, typ string) map[string]any {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		kind, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		if kind != websocket.TextMessage {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %q: %v", b, err)
		}
		switch m["type"] {
		case typ:
			return m
		case "error":
			t.Fatalf("waiting for %q: %v", typ, m)
		}
	}
}

// inputPixels is the number of pixels of an input message's shape (C,H,W).
func inputPixels(in map[string]any) int {
	n := 1
	shape, _ := in["shape"].([]any)
	for _, d := range shape {
		f, _ := d.(float64)
		n *= int(f)
	}
	return n
}

func TestPagesAndAssets(t *testing.T) {
	h, _ := newRouter(t)
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/", `data-testid="layers"`, 200},
		{"/?model=lenet5-fashion-mnist", `data-model="lenet5-fashion-mnist"`, 200},
		{"/?model=nope", "unknown model &#34;nope&#34;", 404},
		{"/?model=lenet5", `data-model="lenet5-fashion-mnist"`, 200},
		{"/?model=resnet56", "/samples/photos/00-astronaut.png", 200},
		{"/model", `data-testid="model-index"`, 200},
		{"/model/resnet56_b", "untrained (random initialisation)", 200},
		{"/?model=resnet56_b", `data-model="resnet56_b"`, 200},
		{"/model/lenet5-fashion-mnist", "61,706", 200},
		{"/model/nope", "unknown model &#34;nope&#34;", 404},
		{"/model/lenet5", `data-testid="model-title">lenet5-fashion-mnist<`, 200},
		{"/model/resnet56", "none (untrained, no dataset)", 200},
		{"/samples/photos/01-cat.png", "", 200},
		{"/static/js/main.js", "import", 200},
		{"/static/css/app.css", ".explorer", 200},
		{"/static/embed.go", "", 404},
		{"/healthz", "ok", 200},
		{"/nowhere", "There is no page at /nowhere.", 404},
		{"/model/a/b", "There is no page at /model/a/b.", 404},
	} {
		rec := serve(h, "GET", tc.path, nil)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("GET %s: %d, want %d with %q", tc.path, rec.Code, tc.status, tc.want)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		if rp := rec.Header().Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("GET %s: Referrer-Policy %q, want no-referrer", tc.path, rp)
		}
	}
	// Unknown pages and models are the site's own page, with its navigation.
	for _, path := range []string{"/nope", "/model/nope", "/?model=nope"} {
		rec := serve(h, "GET", path, nil)
		if rec.Code != 404 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(rec.Body.String(), `data-testid="topbar"`) || !strings.Contains(rec.Body.String(), `<a href="/results">`) {
			t.Errorf("GET %s: %d %q is not the site's 404 page", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	// Every gallery picture the page links is served.
	page := serve(h, "GET", "/", nil).Body.String()
	for _, part := range strings.Split(page, `src="/samples/`)[1:] {
		path := "/samples/" + part[:strings.IndexByte(part, '"')]
		if rec := serve(h, "GET", path, nil); rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

// The static files and the samples answer GET and HEAD only, and a folder
// is not listed: it is the site's 404 page, as a missing file is.
func TestFilesAreReadOnlyAndNeverListed(t *testing.T) {
	h, _ := newRouter(t)
	for _, path := range []string{"/static/js/main.js", "/samples/photos/01-cat.png", "/static/js/"} {
		for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
			rec := serve(h, method, path, strings.NewReader("x"))
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" ||
				!strings.Contains(rec.Body.String(), "answers GET and HEAD only") {
				t.Errorf("%s %s: %d, Allow %q, %q; want 405", method, path, rec.Code, rec.Header().Get("Allow"), rec.Body)
			}
		}
		if path == "/static/js/" {
			continue
		}
		get, head := serve(h, "GET", path, nil), serve(h, "HEAD", path, nil)
		if get.Code != 200 || head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != get.Header().Get("Content-Length") {
			t.Errorf("%s: GET %d, HEAD %d with %d bytes and length %q (GET's %q)", path, get.Code, head.Code, head.Body.Len(),
				head.Header().Get("Content-Length"), get.Header().Get("Content-Length"))
		}
	}
	for _, path := range []string{
		"/static/", "/static/js/", "/static/js", "/static/js/../css/", "/static/js/main.js/",
		"/samples/", "/samples/fashion-mnist/", "/samples/fashion-mnist", "/samples/photos/",
		"/static/js/nope.js", "/samples/photos/nope.png",
	} {
		rec := serve(h, "GET", path, nil)
		body := rec.Body.String()
		// http.FileServer's listing is a <pre> of links.
		if rec.Code != http.StatusNotFound || !strings.Contains(body, "There is no page at "+path+".") || strings.Contains(body, "<pre>") {
			t.Errorf("GET %s: %d %.200q, want the site's 404 page and no listing", path, rec.Code, body)
		}
		if head := serve(h, "HEAD", path, nil); head.Code != http.StatusNotFound {
			t.Errorf("HEAD %s: %d, want 404", path, head.Code)
		}
	}
}

// The request log cuts a long path at 256 bytes (on a character
// boundary) and marks the cut.
func TestLoggedPathIsCapped(t *testing.T) {
	var logs bytes.Buffer
	h, _ := newRouterWith(t, func(d *web.Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	for _, tc := range []struct{ path, logged string }{
		{"/short", "/short"},
		{"/" + strings.Repeat("a", 255), "/" + strings.Repeat("a", 255)},
		{"/" + strings.Repeat("a", 5000), "/" + strings.Repeat("a", 255) + "…"},
		// é is two bytes: 127 of them fill 255 bytes after the slash; the
		// 128th would cross 256.
		{"/" + strings.Repeat("é", 300), "/" + strings.Repeat("é", 127) + "…"},
	} {
		logs.Reset()
		serve(h, "GET", tc.path, nil)
		var line struct{ Msg, Path string }
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Msg != "request" {
			t.Fatalf("log %q: %v", logs.String(), err)
		}
		if line.Path != tc.logged {
			t.Errorf("path of %d bytes logged as %d bytes %.40q…, want %d bytes", len(tc.path), len(line.Path), line.Path, len(tc.logged))
		}
	}
}

// With AllowedHosts, a request under another host name is refused (DNS
// rebinding); IP addresses and the listed names, in any case and with any
// port, are answered. Without it every host is.
func TestHostCheck(t *testing.T) {
	h, _ := newRouterWith(t, func(d *web.Deps) { d.AllowedHosts = []string{"localhost", "Convscope.example.", "[::1]"} })
	for _, tc := range []struct {
		host   string
		status int
	}{
		{"localhost", 200},
		{"localhost:8080", 200},
		{"LOCALHOST.:8080", 200},
		{"convscope.example", 200},
		{"127.0.0.1:8080", 200},
		{"[::1]:8080", 200},
		{"10.1.2.3", 200},
		{"example.com", http.StatusMisdirectedRequest},
		{"evil.example:8080", http.StatusMisdirectedRequest},
		{"localhost.evil.example", http.StatusMisdirectedRequest},
		{"convscope.example.evil", http.StatusMisdirectedRequest},
	} {
		for _, path := range []string{"/", "/static/js/main.js", "/ws", "/healthz"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Host = tc.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			refused := rec.Code == http.StatusMisdirectedRequest
			if refused != (tc.status == http.StatusMisdirectedRequest) {
				t.Errorf("GET %s with Host %q: %d, want %d", path, tc.host, rec.Code, tc.status)
			}
			if refused && !strings.Contains(rec.Body.String(), "does not answer to the host name") {
				t.Errorf("GET %s with Host %q: the 421 says %q", path, tc.host, rec.Body)
			}
		}
	}
	long := httptest.NewRequest("GET", "/", nil)
	long.Host = strings.Repeat("x", 1000) + ".example"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, long)
	if rec.Code != http.StatusMisdirectedRequest || rec.Body.Len() > 300 {
		t.Errorf("a 1000-byte host name: %d, %d bytes of answer", rec.Code, rec.Body.Len())
	}
	for _, hosts := range [][]string{nil, {}, {"localhost", "*"}} {
		h, _ := newRouterWith(t, func(d *web.Deps) { d.AllowedHosts = hosts })
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Host = "anything.example"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("AllowedHosts %q: Host anything.example got %d", hosts, rec.Code)
		}
	}
}

// Deps.MaxSessions caps the websockets: past it /ws closes at once with
// 1013 and the reason; the open session and the pages go on.
func TestSessionCapThroughTheRouter(t *testing.T) {
	h, _ := newRouterWith(t, func(d *web.Deps) { d.MaxSessions = 1 })
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	first, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	readUntil(t, first, "hello")
	second, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = second.ReadMessage()
	second.Close()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater || !strings.Contains(ce.Text, "too many open sessions") {
		t.Fatalf("second session past MaxSessions 1: %v, want close 1013, too many open sessions", err)
	}
	if rec := serve(h, "GET", "/", nil); rec.Code != 200 {
		t.Errorf("GET / at the cap: %d", rec.Code)
	}
	if err := first.WriteJSON(map[string]string{"type": "run", "model": "lenet5-fashion-mnist", "sample": "00-ankle-boot.png"}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, first, "prediction")
}

// With AllowModelUpload a visitor uploads a checkpoint, runs it over the
// websocket by the name the upload answered, and it is gone when the
// session ends; without it there is no such route, and hello says so.
func TestOwnModelThroughTheRouter(t *testing.T) {
	h, _ := newRouter(t)
	if rec := serve(h, "POST", "/own-model?file=x.pth", strings.NewReader("x")); rec.Code == http.StatusOK {
		t.Fatalf("POST /own-model without AllowModelUpload: %d", rec.Code)
	}
	var cat *catalog.Catalog
	h, _ = newRouterWith(t, func(d *web.Deps) { d.AllowModelUpload = true; cat = d.Catalog })
	srv := httptest.NewServer(h)
	defer srv.Close()
	pth, _ := os.ReadFile("../zoo/testdata/lenet5.pth")
	res, err := http.Post(srv.URL+"/own-model?file=my-lenet.pth", "application/octet-stream", bytes.NewReader(pth))
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ Name, Error string }
	json.NewDecoder(res.Body).Decode(&up)
	res.Body.Close()
	if res.StatusCode != 200 || up.Name == "" {
		t.Fatalf("upload: %d %+v", res.StatusCode, up)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if hello := readUntil(t, conn, "hello"); hello["ownModels"] != true {
		t.Errorf("hello %v does not offer own models", hello["ownModels"])
	}
	conn.WriteJSON(map[string]string{"type": "run", "model": up.Name, "sample": "fashion-mnist/00-ankle-boot.png"})
	if start := readUntil(t, conn, "start"); start["model"] != up.Name {
		t.Errorf("the run's model %v", start["model"])
	}
	readUntil(t, conn, "prediction")
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for slices.Contains(cat.Loaded(), up.Name) {
		if time.Now().After(deadline) {
			t.Fatal("the visitor's model outlived their session")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A page of another site cannot make a visitor's browser change this
// server: its POSTs (an upload here) are refused, by Sec-Fetch-Site where
// the browser sends it and by Origin otherwise; the site's own pages and
// clients that are no page pass.
func TestOtherSitesCannotPost(t *testing.T) {
	h, _ := newRouterWith(t, nil)
	for _, c := range []struct {
		origin, site string
		refused      bool
	}{
		{"http://evil.example", "", true},
		{"null", "cross-site", true},
		{"http://evil.example", "same-site", true},
		{"http://example.com", "", false}, // httptest's host
		{"null", "same-origin", false},
		{"", "", false},
	} {
		req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader("not a picture"))
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			req.Header.Set("Sec-Fetch-Site", c.site)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if refused := rec.Code == http.StatusForbidden; refused != c.refused {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: %d", c.origin, c.site, rec.Code)
		}
	}
}
