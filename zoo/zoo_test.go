package zoo

import "testing"

// Parameter counts of torchvision 0.14's models (sum of p.numel() over
// model.parameters(), default 1000 classes), the figures issue 4 lists.
func TestParamCountsMatchTorchvision(t *testing.T) {
	for name, want := range map[string]int64{
		"alexnet":   61100840,
		"vgg11":     132863336,
		"googlenet": 6624904, "googlenet_aux": 13004888, "mobilenet_v2": 3504872, "convnext_tiny": 28589128,
		"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032, "vgg16": 138357544, "vgg16_bn": 138365992, "vgg19": 143667240,
	} {
		m, err := Build(name, nil, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Summarize(m)
		if err != nil {
			t.Fatal(err)
		}
		if s.Params != want {
			t.Errorf("%s: %d parameters, torchvision has %d", name, s.Params, want)
		}
	}
}

// Every registered model builds at its default size and at both small
// sizes where it is a small form, and its summary is consistent.
func TestEveryModelBuilds(t *testing.T) {
	for _, name := range Names() {
		f, _ := Lookup(name)
		inputs := [][]int{f.Input}
		if f.Input[1] <= 32 {
			inputs = [][]int{{1, 28, 28}, {3, 32, 32}}
		}
		for _, in := range inputs {
			m, err := Build(name, in, 10, 1)
			if err != nil {
				t.Errorf("%s at %v: %v", name, in, err)
				continue
			}
			s, err := Summarize(m)
			if err != nil {
				t.Errorf("%s at %v: %v", name, in, err)
				continue
			}
			last := s.Layers[len(s.Layers)-1]
			if len(last.Output) != 1 || last.Output[0] != 10 {
				t.Errorf("%s at %v: output %v", name, in, last.Output)
			}
			// Every row of the tree is addressable: one name, one row.
			seen := map[string]bool{}
			for _, l := range s.Layers {
				if seen[l.Name] {
					t.Errorf("%s: two rows named %q", name, l.Name)
				}
				seen[l.Name] = true
			}
			t.Logf("%-16s %v params %11d MACs %13d", name, in, s.Params, s.MACs)
		}
	}
}

// MobileNet v1's resolution multiplier is its input size: Table 7 of the
// paper gives 418, 290 and 186 million mult-adds at 192, 160 and 128.
func TestMobileNetResolutionMultiplier(t *testing.T) {
	for size, want := range map[int]int64{192: 418, 160: 290, 128: 186} {
		m, err := Build("mobilenet_v1", []int{3, size, size}, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := Summarize(m)
		if got := s.MACs / 1000000; got != want {
			t.Errorf("at %d: %d M mult-adds, the paper %d M", size, got, want)
		}
	}
}
