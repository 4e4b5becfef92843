package session

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/convscope/convscope/internal/bounded"
)

// FuzzDecodeRequest feeds arbitrary client messages to decodeRequest: it
// returns an error or a Request, never panics or hangs; a Request it
// accepts encodes back to JSON that it accepts again as the same Request.
func FuzzDecodeRequest(f *testing.F) {
	valid := map[string]bool{
		`{"type":"run","sample":"00-coat.png"}`:                                             true,
		"{\"type\":\"run\",\"sample\":\"00-coat.png\"}\n\t ":                                true,
		`{"type":"run","model":"lenet5","upload":"feedface","open":["c1","s2"]}`:            true,
		`{"type":"project","run":1,"layer":"c1","channel":0,"method":"guided","y":3,"x":4}`: true,
		`{"type":"open","run":2,"layer":"layer1.0"}`:                                        true,
		`{"type":"run","open":[],"run":null,"sample":"\u00e9\ud83d\ude00"}`:                 true,
	}
	for m := range valid {
		f.Add([]byte(m))
	}
	for _, m := range []string{
		// The hostile messages of TestHostileMessagesGetErrorsAndTheSessionGoesOn.
		`{not json`,
		`[1,2,3]`,
		`{"type":"run","sample":"00-coat.png","evil":true}`,
		`{"type":"run","sample":"00-coat.png"} garbage`,
		`{"type":"run","sample":"00-coat.png"}{"type":"run","sample":"00-coat.png"}`,
		`{"type":"run","sample":"00-coat.png"}]`,
		`{"Type":"run","sample":"00-coat.png"}`,
		`{"type":"run","SAMPLE":"00-coat.png"}`,
		`{"type":"run","ſample":"00-coat.png"}`,
		`{"type":"run","sample":"00-coat.png","TYPE":"project"}`,
		`{"type":"dance"}`,
		`{}`,
		`{"type":"run","sample":"../../etc/passwd.png"}`,
		`{"type":"run","sample":"00-coat.png","open":"c1"}`,
		`{"type":"run","sample":"00-coat.png","open":[` + strings.Repeat(`"x",`, 5000) + `"x"]}`,
		strings.Repeat(" ", 100<<10) + `{"type":"run"}`,
		`{"type":"project","layer":"c1\u0000","channel":0}`,
		`{"type":"project","layer":3,"channel":0}`,
		`{"type":"project","layer":["c1"],"channel":0}`,
		`{"type":"project","layer":"c1","channel":1e99}`,
		`{"type":"project","layer":"c1","channel":0,"y":-1,"x":0}`,
		`{"type":"run","type":"open","layer":"c1"}`,
		"{\"type\":\"run\",\"sample\":\"\xff\xfe\"}",
		strings.Repeat("[", 20000),
		``,
		`null`,
	} {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var req Request
		var err error
		bounded.Run(t, fmt.Sprintf("decodeRequest of %d bytes", len(msg)), math.MaxUint64, func() { err = decodeRequest(msg, &req) })
		if err != nil && valid[string(msg)] {
			t.Fatalf("the valid message %q: %v", msg, err)
		}
		if err != nil {
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("accepted %q, but it does not encode: %v", msg, err)
		}
		var req2 Request
		if err := decodeRequest(again, &req2); err != nil {
			t.Fatalf("accepted %q, but not its encoding %s: %v", msg, again, err)
		}
		if len(req.Open) == 0 {
			req.Open = nil // omitempty drops an empty list
		}
		if !reflect.DeepEqual(req, req2) {
			t.Fatalf("%q decodes to %+v, its encoding %s to %+v", msg, req, again, req2)
		}
	})
}
