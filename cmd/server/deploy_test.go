package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
)

// deployArgs reads the server's arguments from the systemd unit's
// ExecStart and the container recipe's ENTRYPOINT in deploy/.
func deployArgs(t *testing.T) map[string][]string {
	t.Helper()
	unit, err := os.ReadFile("../../deploy/convscope.service")
	if err != nil {
		t.Fatal(err)
	}
	exec := regexp.MustCompile(`(?m)^ExecStart=\S+ (.*)$`).FindSubmatch(unit)
	if exec == nil {
		t.Fatal("deploy/convscope.service has no ExecStart")
	}
	recipe, err := os.ReadFile("../../deploy/Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`(?m)^ENTRYPOINT (\[.*\])$`).FindSubmatch(recipe)
	if entry == nil {
		t.Fatal("deploy/Containerfile has no ENTRYPOINT")
	}
	var argv []string
	if err := json.Unmarshal(entry[1], &argv); err != nil {
		t.Fatalf("ENTRYPOINT: %v", err)
	}
	return map[string][]string{"convscope.service": strings.Fields(string(exec[1])), "Containerfile": argv[1:]}
}

// The unit and the container start the server with flags it takes: each is
// run with its own arguments (on a free port) and shut down at once. Both
// set the memory budget and turn training off, as a public replica should.
func TestDeployRecipesStartTheServer(t *testing.T) {
	for file, args := range deployArgs(t) {
		joined := " " + strings.Join(args, " ") + " "
		for _, want := range []string{" -memory ", " -allow-training=false "} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s starts the server without %s", file, strings.TrimSpace(want))
			}
		}
		for i := range args {
			if args[i] == "-addr" && i+1 < len(args) {
				args[i+1] = "127.0.0.1:0"
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // serve, then shut down at once
		logOutput = io.Discard
		err := run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), args)
		logOutput = os.Stderr
		if err != nil {
			t.Errorf("%s: the server refuses its arguments %q: %v", file, args, err)
		}
	}
}
