package nn

import "math"

// Schedule is a learning rate as a function of the step count t (0-based;
// the caller decides whether a step is an iteration or an epoch). Each one
// reproduces the PyTorch scheduler it names, stepped t times.
type Schedule func(t int) float32

// StepLR is base * gamma^floor(t/every).
func StepLR(base float32, every int, gamma float32) Schedule {
	return func(t int) float32 { return base * float32(math.Pow(float64(gamma), float64(t/every))) }
}

// MultiStepLR is base * gamma^(number of milestones <= t).
func MultiStepLR(base float32, milestones []int, gamma float32) Schedule {
	return func(t int) float32 {
		lr := base
		for _, m := range milestones {
			if t >= m {
				lr *= gamma
			}
		}
		return lr
	}
}

// CosineLR is CosineAnnealingLR: min + (base-min)*(1+cos(pi*t/T))/2.
func CosineLR(base, minLR float32, T int) Schedule {
	return func(t int) float32 {
		return minLR + (base-minLR)*float32(1+math.Cos(math.Pi*float64(t)/float64(T)))/2
	}
}

// WarmupCosineLR is PyTorch's SequentialLR of LinearLR(start, 1, warmup)
// and CosineAnnealingLR(total-warmup, min): the factor rises linearly from
// start to 1 over warmup steps, then the rate follows a cosine to min.
func WarmupCosineLR(base, start, minLR float32, warmup, total int) Schedule {
	cos := CosineLR(base, minLR, total-warmup)
	return func(t int) float32 {
		if t < warmup {
			return base * (start + (1-start)*float32(t)/float32(warmup))
		}
		return cos(t - warmup)
	}
}

// OneCycleLR is PyTorch's OneCycleLR with cosine annealing and two phases
// (three_phase=False): from maxLR/div up to maxLR over the first pct of the
// steps, then down to maxLR/(div*finalDiv). (PyTorch also cycles momentum by
// default; this schedule sets only the rate.)
func OneCycleLR(maxLR float32, total int, pct, div, finalDiv float32) Schedule {
	initial := maxLR / div
	final := initial / finalDiv
	end1 := float64(pct)*float64(total) - 1
	end2 := float64(total - 1)
	anneal := func(from, to float32, frac float64) float32 {
		return to + (from-to)/2*float32(math.Cos(math.Pi*frac)+1)
	}
	return func(t int) float32 {
		if float64(t) <= end1 {
			return anneal(initial, maxLR, float64(t)/end1)
		}
		return anneal(maxLR, final, (float64(t)-end1)/(end2-end1))
	}
}
