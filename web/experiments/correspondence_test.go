package experiments

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/nn"
)

// Table 1's page: the first five test pictures of the class, the box
// masked in each, and the Δ scores experiment.Correspondence gives for
// them; the pictures' figure is a PNG; a box outside the picture is
// refused.
func TestCorrespondencePage(t *testing.T) {
	needFashionMNIST(t)
	_, srv, cat := room(t)
	body := get(t, srv.URL+"/correspondence?model=lenet5-untrained&class=7&box=2,14,12,24&layers=c3&layers=f6")
	m, err := cat.Open("lenet5-untrained")
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.OpenImages("fashion-mnist", "", false)
	if err != nil {
		t.Fatal(err)
	}
	set.Mean, set.Std = m.Pre.Mean, m.Pre.Std
	var xs []*nn.Tensor
	var boxes []image.Rectangle
	for i := 0; len(xs) < 5; i++ {
		if set.Labels[i] == 7 {
			x := nn.New(1, 1, 28, 28)
			set.Fill(i, x.Data)
			xs = append(xs, x)
			boxes = append(boxes, image.Rect(2, 14, 12, 24))
		}
	}
	want, err := experiment.Correspondence(context.Background(), m.Net.Net, xs, boxes, []string{"c3", "f6"}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range want {
		row := fmt.Sprintf(`data-layer="%s"><td>%s</td><td class="num">%d</td><td class="num">%.1f ± %.1f</td>`, r.Layer, r.Layer, r.Part, r.Random, r.RandomStd)
		if !strings.Contains(body, row) {
			t.Errorf("the page lacks the row %s", row)
		}
	}
	res, err := http.Get(srv.URL + "/correspondence/pictures.png?model=lenet5-untrained&class=7&box=2,14,12,24")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if img, err := png.Decode(res.Body); err != nil || img.Bounds().Dx() < 5*84 {
		t.Errorf("pictures: %v", err)
	}
	if body := get(t, srv.URL+"/correspondence?model=lenet5-untrained&box=20,20,40,40"); !strings.Contains(body, "inside the 28x28 picture") {
		t.Error("a box outside the picture was measured")
	}
	// One box per picture: each picture's own part.
	per := "&box=2,14,12,24&box=3,14,13,24&box=4,14,14,24&box=5,14,15,24&box=6,14,16,24"
	body = get(t, srv.URL+"/correspondence?model=lenet5-untrained&class=7&layers=c3"+per)
	for k := range boxes {
		boxes[k] = image.Rect(2+k, 14, 12+k, 24)
	}
	want, err = experiment.Correspondence(context.Background(), m.Net.Net, xs, boxes, []string{"c3"}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if row := fmt.Sprintf(`<td class="num">%d</td>`, want[0].Part); !strings.Contains(body, row) {
		t.Errorf("one box per picture: the page lacks %s", row)
	}
	if body := get(t, srv.URL+"/correspondence?model=lenet5-untrained&box=1,1,5,5&box=2,2,6,6"); !strings.Contains(body, "2 boxes for 5 pictures") {
		t.Error("two boxes for five pictures were measured")
	}
}
