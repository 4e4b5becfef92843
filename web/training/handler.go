// Package training is the web room of the live training page (/train):
// a visitor writes a recipe, the server trains it (one run at a time, the
// others in line), and the page watches the loss and accuracy curves, the
// first layer's filters and a probe picture's feature maps change, with
// the confusion matrix after each epoch; runs pause, resume and stop, and
// a finished one opens in the explorer.
package training

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/train/recipe"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// Handler serves the training room.
type Handler struct {
	// Replica names the server the runs live on, which the page says (a
	// proxy in front of several replicas sends /train to this one).
	Replica string

	runs    *Manager
	dataDir string
	stop    <-chan struct{}
}

// New makes the room over a manager; closing stop ends the event streams
// (the server is shutting down).
func New(runs *Manager, dataDir string, stop <-chan struct{}) *Handler {
	return &Handler{runs: runs, dataDir: dataDir, stop: stop}
}

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / is the page: the recipe form, the runs, the watched run.
	r.Get("/", h.page)
	// POST /runs starts a run from the form and shows it.
	r.Post("/runs", h.start)
	// POST /runs/{id}/{pause,resume,stop} controls a run.
	r.Post("/runs/{id}/{action}", h.control)
	// GET /runs/{id}/events streams a run's frames (server-sent events).
	r.Get("/runs/{id}/events", h.events)
	// GET /compare?a=RUN&b=RUN puts two runs side by side.
	r.Get("/compare", h.compare)
	// GET /runs/{id}/evolution.png?layer=L draws Figure 4 from its snapshots.
	r.Get("/runs/{id}/evolution.png", h.evolution)
	return r
}

// Choice is one model the form offers, with its default recipe.
type Choice struct {
	Model    string
	Defaults recipe.Recipe
}

// PageView is what the page shows.
type PageView struct {
	Choices []Choice
	// Starts are the trained models a run can start from (a fine-tune).
	Starts   []catalog.Entry
	Datasets []string
	Recipe   recipe.Recipe
	Runs     []*Run
	Watched  *Run
	Problem  string
	// Layers are the watched run's convolutions, once it has snapshots;
	// Evolution the one whose Figure 4 is asked for.
	Layers    []string
	Evolution string
	// Replica names the server the runs live on ("" when unnamed).
	Replica string
}

// smallModels are the zoo's models small enough to train here: those
// whose default input is at most 64 pixels on a side.
func smallModels() []Choice {
	var out []Choice
	for _, name := range zoo.Names() {
		if f, err := zoo.Lookup(name); err == nil && f.Input[1] <= 64 {
			out = append(out, Choice{name, recipe.Default(name)})
		}
	}
	return out
}

// starts are the trained models in the explorer's menu.
func (h *Handler) starts() []catalog.Entry {
	var out []catalog.Entry
	for _, e := range h.runs.models.Entries() {
		if e.Trained {
			out = append(out, e)
		}
	}
	return out
}

// datasets are the datasets this server finds, then the image folders
// under -data-dir ("folder:DIR": a folder whose sub-folders, two or more,
// are the classes).
func (h *Handler) datasets() []string {
	var out []string
	for _, d := range data.ImageDatasets() {
		if _, err := data.Find(d, h.dataDir); err == nil {
			out = append(out, d)
		} else if _, err := data.FindCIFAR(d, h.dataDir); err == nil {
			out = append(out, d)
		}
	}
	if h.dataDir == "" {
		return out
	}
	entries, _ := os.ReadDir(h.dataDir)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(h.dataDir, e.Name())
		sub, _ := os.ReadDir(dir)
		classes := 0
		for _, c := range sub {
			if c.IsDir() && !strings.HasPrefix(c.Name(), ".") {
				classes++
			}
		}
		if classes >= 2 {
			out = append(out, "folder:"+dir)
		}
	}
	return out
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	v := PageView{Choices: smallModels(), Datasets: h.datasets(), Runs: h.runs.Runs(), Problem: r.URL.Query().Get("problem"), Starts: h.starts(), Replica: h.Replica}
	model := r.URL.Query().Get("model")
	if !slices.ContainsFunc(v.Choices, func(c Choice) bool { return c.Model == model }) {
		model = "lenet5"
	}
	v.Recipe = recipe.Default(model)
	if id := r.URL.Query().Get("run"); id != "" {
		v.Watched, _ = h.runs.Run(id)
	} else if len(v.Runs) > 0 {
		v.Watched = v.Runs[0]
	}
	if v.Watched != nil {
		v.Layers = v.Watched.EvolutionLayers()
		if l := r.URL.Query().Get("evolution"); slices.Contains(v.Layers, l) {
			v.Evolution = l
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Page(v).Render(r.Context(), w)
}

// recipeOf reads a recipe from the form.
func recipeOf(r *http.Request) (recipe.Recipe, error) {
	if err := r.ParseForm(); err != nil {
		return recipe.Recipe{}, err
	}
	f := r.PostForm
	rec := recipe.Default(f.Get("model"))
	rec.Data, rec.From = f.Get("data"), f.Get("from")
	changes, err := zoo.ParseVariant(f.Get("variant"))
	if err != nil {
		return rec, err
	}
	rec.Variant = zoo.FormatVariant(changes)
	var bad []string
	num := func(name string, dst *float64) {
		if s := f.Get(name); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				bad = append(bad, name)
			}
			*dst = v
		}
	}
	whole := func(name string, dst *int) {
		if s := f.Get(name); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				bad = append(bad, name)
			}
			*dst = v
		}
	}
	whole("epochs", &rec.Epochs)
	whole("batch", &rec.Batch)
	whole("limit", &rec.Limit)
	whole("warmup", &rec.Warmup)
	whole("crop_padding", &rec.CropPadding)
	num("lr", &rec.LR)
	num("wd", &rec.WeightDecay)
	num("smoothing", &rec.LabelSmoothing)
	num("ema", &rec.EMA)
	num("erase", &rec.Erase)
	if s := f.Get("seed"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			bad = append(bad, "seed")
		}
		rec.Seed = v
	}
	for name, dst := range map[string]*string{"opt": &rec.Optimizer, "schedule": &rec.Schedule, "augment": &rec.Augment} {
		if s := f.Get(name); s != "" {
			*dst = s
		}
	}
	if len(bad) > 0 {
		return rec, problemf("training.err_not_a_number", strings.Join(bad, ", "))
	}
	if rec.Augment != "crop-flip" {
		rec.CropPadding = 0 // the padding is the crop's
	}
	if rec.Snapshots, err = recipe.ParseEpochs(f.Get("snapshots"), rec.Epochs); err != nil {
		return rec, problemf("training.err_snapshots", err.Error())
	}
	return rec, rec.Check()
}

// start starts the form's run, or, when the form names a second variant
// (the architecture lab), two runs of the same recipe and seed that
// differ only in their variants, and shows them side by side.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	rec, err := recipeOf(r)
	recipes := []recipe.Recipe{rec}
	if err == nil && r.PostForm.Get("lab") != "" {
		var changes []zoo.Change
		if changes, err = zoo.ParseVariant(r.PostForm.Get("variant_b")); err == nil {
			b := rec
			b.Variant = zoo.FormatVariant(changes)
			if b.Variant == rec.Variant {
				err = problemf("training.err_lab_same")
			}
			recipes = append(recipes, b)
		}
	}
	for i := range recipes {
		if err == nil {
			err = h.check(&recipes[i])
		}
	}
	var runs []*Run
	for _, rec := range recipes {
		if err != nil {
			break
		}
		var run *Run
		if run, err = h.runs.Start(rec); err == nil {
			runs = append(runs, run)
		}
	}
	switch {
	case err != nil:
		http.Redirect(w, r, i18n.Href(r.Context(), "/train?problem="+urlQuery(problemText(r.Context(), err))), http.StatusSeeOther)
	case len(runs) == 2:
		http.Redirect(w, r, i18n.Href(r.Context(), "/train/compare?a="+runs[0].ID+"&b="+runs[1].ID), http.StatusSeeOther)
	default:
		http.Redirect(w, r, i18n.Href(r.Context(), "/train?run="+runs[0].ID), http.StatusSeeOther)
	}
}

// check makes sure a recipe can run here: its dataset is on the server,
// its variant builds, and the model it starts from is of its architecture.
func (h *Handler) check(rec *recipe.Recipe) error {
	if !slices.Contains(h.datasets(), rec.Data) {
		return problemf("training.err_no_dataset", rec.Data, strings.Join(h.datasets(), ", "))
	}
	if rec.Variant != "" && !strings.HasPrefix(rec.Data, "folder:") {
		if _, err := zoo.BuildVariant(rec.Model, rec.Variant, nil, 0, 0); err != nil {
			return err
		}
	}
	if rec.From != "" {
		i := slices.IndexFunc(h.starts(), func(e catalog.Entry) bool { return e.Name == rec.From && e.Model == rec.Model })
		if i < 0 {
			return problemf("training.err_no_start", rec.Model, rec.From)
		}
		if e := h.starts()[i]; e.Variant != rec.Variant {
			return problemf("training.err_fine_tune_changes", e.Name, e.Variant, rec.Variant)
		}
		rec.FromFile = h.starts()[i].WeightsFile()
	}
	return nil
}

func (h *Handler) control(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var err error
	switch chi.URLParam(r, "action") {
	case "pause":
		err = h.runs.Pause(id)
	case "resume":
		err = h.runs.Resume(id)
	case "stop":
		err = h.runs.Stop(id)
	default:
		err = problemf("training.err_no_action", chi.URLParam(r, "action"))
	}
	target := "/train?run=" + urlQuery(id)
	if err != nil {
		target += "&problem=" + urlQuery(problemText(r.Context(), err))
	}
	target = i18n.Href(r.Context(), target)
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": problemText(r.Context(), err)})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"run": id})
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// events streams a run's history, then its frames as they come, as
// server-sent events (one JSON frame per event), with a comment every 15
// seconds to keep proxies from closing the stream.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	run, ok := h.runs.Run(chi.URLParam(r, "id"))
	if !ok {
		http.Error(w, "no such run", http.StatusNotFound)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	// A proxy passes each line on at once (nginx reads this header).
	w.Header().Set("X-Accel-Buffering", "no")
	w.Header().Set("Cache-Control", "no-cache")
	history, next, cancel := run.Watch()
	defer cancel()
	write := func(f Frame) bool {
		f.Message = messageText(r.Context(), f.Message) // a state's message, in the page's language
		b, err := json.Marshal(f)
		if err != nil {
			return true
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		return true
	}
	for _, f := range history {
		if !write(f) {
			return
		}
	}
	flusher.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.stop:
			return
		case f := <-next:
			if !write(f) {
				return
			}
			flusher.Flush()
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": still here\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// urlQuery escapes s for a URL's query.
func urlQuery(s string) string { return url.QueryEscape(s) }

func (h *Handler) evolution(w http.ResponseWriter, r *http.Request) {
	run, ok := h.runs.Run(chi.URLParam(r, "id"))
	if !ok {
		http.Error(w, "no such run", http.StatusNotFound)
		return
	}
	png, err := h.runs.Evolution(r.Context(), run, r.URL.Query().Get("layer"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}
