package learn

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/i18n"
)

// unitAt asks GET /unit for a unit and decodes the answer.
func unitAt(t *testing.T, h *Handler, q url.Values) (int, UnitAnswer, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	i18n.Middleware(h.Routes()).ServeHTTP(rec, httptest.NewRequest("GET", "/unit?"+q.Encode(), nil))
	var a UnitAnswer
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code, a, rec.Body.String()
}

var mapAttrs = regexp.MustCompile(`class="pixelated lesson-maps unit-map" alt="[^"]*" data-model="([^"]+)" data-sample="([^"]+)" data-layer="([^"]+)" data-channels="(\d+)" data-cols="(\d+)" data-h="(\d+)" data-w="(\d+)" data-scale="(\d+)"`)

// Any unit of the maps a lesson shows can be explained: the page names
// its model, picture, layer and grid, and /unit answers with the unit
// worked out apart from the engine and equal to the engine's value; an
// activation's unit is followed back to the convolution under it.
func TestEveryMapUnitExplained(t *testing.T) {
	h := newHandler(t)
	for _, page := range []struct {
		path        string
		maps, chain int // map pictures on the page; units in each answer
	}{{"/basics", 1, 1}, {"/googlenet", 4, 3}} {
		html := get(t, h, page.path)
		found := mapAttrs.FindAllStringSubmatch(html, -1)
		if len(found) != page.maps || strings.Count(html, `data-testid="lesson-unit"`) != 1 {
			t.Fatalf("%s: %d map pictures, want %d, and one unit panel", page.path, len(found), page.maps)
		}
		for _, m := range found {
			channels, h2, w := atoi(t, m[4]), atoi(t, m[6]), atoi(t, m[7])
			// the last unit of the last map, and one in the middle
			for _, pos := range [][3]int{{channels - 1, h2 - 1, w - 1}, {channels / 2, h2 / 2, w / 3}} {
				q := url.Values{"model": {m[1]}, "sample": {m[2]}, "layer": {m[3]}}
				for i, k := range []string{"channel", "y", "x"} {
					q.Set(k, strconv.Itoa(pos[i]))
				}
				code, a, body := unitAt(t, h, q)
				if code != 200 || len(a.Units) != page.chain {
					t.Fatalf("%s %v: %d, %d units: %s", page.path, q, code, len(a.Units), body)
				}
				for i, u := range a.Units {
					if u.Channel != pos[0] || u.Y != pos[1] || u.X != pos[2] {
						t.Errorf("%s: unit %d is (%d,%d,%d), asked %v", u.Layer, i, u.Channel, u.Y, u.X, pos)
					}
					if math.Abs(u.Result-float64(u.Engine)) > 1e-4*math.Max(1, math.Abs(u.Result)) {
						t.Errorf("%s (%s) at %v: worked out %g, engine %g", u.Layer, u.Type, pos, u.Result, u.Engine)
					}
				}
				if first, last := a.Units[0], a.Units[len(a.Units)-1]; first.Layer != m[3] || last.Kind != "weighted" || last.Type != "Conv2d" {
					t.Errorf("%s: the chain runs %s (%s) … %s (%s %s), want the map's layer down to its convolution", page.path, first.Layer, first.Type, last.Layer, last.Type, last.Kind)
				}
			}
		}
	}
}

// A unit outside the map, a layer the model lacks, or a position that is
// not a number is a clear error, in the reader's language.
func TestUnitRefusals(t *testing.T) {
	h := newHandler(t)
	base := url.Values{"model": {"lenet5-fashion-mnist"}, "layer": {"c1"}, "channel": {"0"}, "y": {"0"}, "x": {"0"}}
	for _, c := range []struct {
		key, value string
		code       int
		says       string
	}{
		{"channel", "6", 422, "outside"},
		{"y", "-1", 400, "y"},
		{"x", "a", 400, "x"},
		{"layer", "nope", 422, "nope"},
		{"model", "no-such-model", 404, "no-such-model"},
		{"lang", "vi", 400, "số nguyên"},
	} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set(c.key, c.value)
		if c.key == "lang" {
			q.Set("y", "z")
		}
		code, _, body := unitAt(t, h, q)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s=%s: %d %s, want %d saying %q", c.key, c.value, code, body, c.code, c.says)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
