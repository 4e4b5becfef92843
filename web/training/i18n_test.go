package training

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convscope/convscope/train/recipe"
	"github.com/convscope/convscope/web/i18n"
)

// keptRun writes a run the manager finds when it starts: its recipe and a
// status of state with message.
func keptRun(t *testing.T, dir, id string, state State, message string) {
	t.Helper()
	rec := recipe.Default("lenet5")
	rec.Epochs = 5
	b, _ := json.Marshal(rec)
	st, _ := json.Marshal(status{State: state, Message: message})
	if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"recipe.json": b, "status.json": st} {
		if err := os.WriteFile(filepath.Join(dir, id, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// langRoom serves the room as the server does, its language chosen by
// ?lang= or Accept-Language, over two stopped runs.
func langRoom(t *testing.T) (http.Handler, *Manager) {
	t.Helper()
	dir := t.TempDir()
	keptRun(t, dir, "20250101-000000", Stopped, "stopped after 2 of 5 epochs")
	keptRun(t, dir, "20250101-000001", Stopped, msgStoppedBeforeStart)
	m, err := NewManager(dir, "", &added{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return i18n.Middleware(New(m, "", nil).Routes()), m
}

func get(t *testing.T, h http.Handler, target, accept string) string {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", target, rec.Code)
	}
	return rec.Body.String()
}

// checkWords fails for each of want missing from html and each of unwanted
// in it.
func checkWords(t *testing.T, page, html string, want, unwanted []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(html, w) {
			t.Errorf("%s lacks %q", page, w)
		}
	}
	for _, w := range unwanted {
		if strings.Contains(html, w) {
			t.Errorf("%s still reads %q", page, w)
		}
	}
}

// The training page reads in Vietnamese when the URL or the browser asks
// for it: its form, its runs' states and messages, its live run's
// controls and captions, and its links keep ?lang=.
func TestPageInVietnamese(t *testing.T) {
	h, _ := langRoom(t)
	vi := get(t, h, "/?lang=vi&run=20250101-000000", "")
	checkWords(t, "the training page", vi,
		[]string{"<title>Huấn luyện · convscope</title>", "Quá trình huấn luyện bạn có thể theo dõi", "Tốc độ học", "Suy giảm trọng số",
			"cắt và lật ngẫu nhiên", "Bắt đầu huấn luyện", "Các lượt chạy", "lenet5 trên fashion-mnist, 5 epoch:", "<strong>đã dừng</strong>",
			"(đã dừng sau 2 trên 5 epoch)", "(đã dừng trước khi bắt đầu)", `data-testid="train-state">đã dừng<`, ">Tạm dừng<", ">Tiếp tục<",
			"Hàm mất mát (huấn luyện", `aria-label="đường cong độ chính xác"`, "So sánh lượt chạy này với",
			`action="/train/runs?lang=vi"`, `href="/train?lang=vi&amp;run=20250101-000001"`, `action="/train/runs/20250101-000000/pause?lang=vi"`,
			`<input type="hidden" name="lang" value="vi">`, `data-state="stopped"`},
		[]string{"Training you can watch", "Learning rate", "Weight decay", "random crop and flip", "Start training", ">Runs<",
			" on fashion-mnist", "stopped after", "stopped before", ">Pause<", ">Resume<", "Loss (training", "accuracy curve", "Compare this run with"})

	// The browser's language chooses it too (and links do not pin it), and
	// English stays the default.
	if html := get(t, h, "/", "vi-VN,vi;q=0.9"); !strings.Contains(html, "Bắt đầu huấn luyện") || strings.Contains(html, "/train?lang=vi") {
		t.Error("Accept-Language: vi does not give the page in Vietnamese, or puts lang= in its links")
	}
	en := get(t, h, "/?run=20250101-000000", "")
	checkWords(t, "the English training page", en,
		[]string{"Training you can watch", "Learning rate", "Start training", "lenet5 on fashion-mnist, 5 epochs: ", "(stopped after 2 of 5 epochs)", ">Pause<"},
		[]string{"Bắt đầu huấn luyện", "đã dừng"})
}

// The comparison of two runs reads in Vietnamese, and so does its problem
// when it is not given two runs.
func TestCompareInVietnamese(t *testing.T) {
	h, _ := langRoom(t)
	vi := get(t, h, "/compare?a=20250101-000000&b=20250101-000001&lang=vi", "")
	checkWords(t, "the comparison", vi,
		[]string{"Hai lượt chạy cạnh nhau", "<th>lượt chạy</th>", "<th>công thức</th>", "độ chính xác kiểm tra", `data-testid="compare-state">đã dừng<`,
			"lenet5 trên fashion-mnist: sgd, tốc độ học", `href="/train?lang=vi&amp;run=20250101-000000"`},
		[]string{"Two runs side by side", "<th>recipe</th>", "test accuracy", "weight decay"})
	if html := get(t, h, "/compare?lang=vi", ""); !strings.Contains(html, "hãy nêu hai lượt chạy để so sánh") {
		t.Error("the comparison of no runs does not say so in Vietnamese")
	}
}

// A form's problem and a button's refusal come back in the reader's
// language, keeping ?lang= in the redirect; the run's stream names its
// messages in it too.
func TestProblemsAndStreamInVietnamese(t *testing.T) {
	h, _ := langRoom(t)
	req := httptest.NewRequest("POST", "/runs?lang=vi", strings.NewReader(url.Values{"model": {"lenet5"}, "lr": {"fast"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	loc, _ := url.QueryUnescape(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || !strings.Contains(loc, "lang=vi") || !strings.Contains(loc, "không phải một số: lr") {
		t.Errorf("a bad form in Vietnamese: %d %q", rec.Code, loc)
	}

	req = httptest.NewRequest("POST", "/runs/20250101-000000/resume?lang=vi", nil)
	req.Header.Set("Accept", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if want := "lượt chạy 20250101-000000 đang ở trạng thái đã dừng, không phải tạm dừng"; rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), want) {
		t.Errorf("resuming a stopped run in Vietnamese: %d %s, want %q", rec.Code, rec.Body.String(), want)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/runs/20250101-000000/resume", nil)
	req.Header.Set("Accept", "application/json")
	h.ServeHTTP(rec, req)
	if want := "run 20250101-000000 is stopped, not paused"; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("resuming a stopped run in English: %s, want %q", rec.Body.String(), want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/runs/20250101-000000/events?lang=vi", nil).WithContext(ctx))
	if body := rec.Body.String(); !strings.Contains(body, `"message":"đã dừng sau 2 trên 5 epoch"`) || !strings.Contains(body, `"state":"stopped"`) {
		t.Errorf("the stream in Vietnamese: %s", body)
	}
}

// messageText translates the manager's own messages and leaves any other
// (an error of the trainer) as it is.
func TestMessageText(t *testing.T) {
	vi := i18n.With(context.Background(), i18n.Vietnamese, true, nil)
	for msg, want := range map[string]string{
		"stopped after 3 of 10 epochs":    "đã dừng sau 3 trên 10 epoch",
		msgStoppedWhilePaused:             "đã dừng khi đang tạm dừng",
		msgServerStopped:                  "máy chủ đã dừng; lượt chạy sẽ tiếp tục khi máy chủ khởi động lại",
		"stopped after 3 of 10 epochs, x": "stopped after 3 of 10 epochs, x",
		"out of memory":                   "out of memory",
		"":                                "",
	} {
		if got := messageText(vi, msg); got != want {
			t.Errorf("messageText(%q) = %q, want %q", msg, got, want)
		}
		if got := messageText(context.Background(), msg); got != msg {
			t.Errorf("in English, messageText(%q) = %q", msg, got)
		}
	}
}
