package training

import (
	"context"
	"fmt"

	"github.com/convscope/convscope/web/i18n"
)

// stateText is a run's state in ctx's language ("running", "đang chạy").
func stateText(ctx context.Context, s State) string {
	switch s {
	case Queued:
		return i18n.T(ctx, "training.state_queued")
	case Running:
		return i18n.T(ctx, "training.state_running")
	case Paused:
		return i18n.T(ctx, "training.state_paused")
	case Stopped:
		return i18n.T(ctx, "training.state_stopped")
	case Finished:
		return i18n.T(ctx, "training.state_finished")
	case Failed:
		return i18n.T(ctx, "training.state_failed")
	}
	return string(s)
}

// The messages the manager gives a run, kept in English in its
// status.json and put in the reader's language by messageText.
const (
	msgStoppedBeforeStart = "stopped before it started"
	msgStoppedWhilePaused = "stopped while paused"
	msgStoppedAfter       = "stopped after %d of %d epochs"
	msgServerStopped      = "the server stopped; it resumes when the server starts again"
)

// messageText is a run's message in ctx's language: the manager's own
// messages are translated; any other (a failed run's error) is shown as it
// is.
func messageText(ctx context.Context, msg string) string {
	switch msg {
	case "":
		return ""
	case msgStoppedBeforeStart:
		return i18n.T(ctx, "training.msg_stopped_before_start")
	case msgStoppedWhilePaused:
		return i18n.T(ctx, "training.msg_stopped_while_paused")
	case msgServerStopped:
		return i18n.T(ctx, "training.msg_server_stopped")
	}
	var done, all int
	if n, _ := fmt.Sscanf(msg, msgStoppedAfter, &done, &all); n == 2 && fmt.Sprintf(msgStoppedAfter, done, all) == msg {
		return i18n.T(ctx, "training.msg_stopped_after", done, all)
	}
	return msg
}

// problem is an error a person reads on the page: a catalogue message and
// its arguments, in English where it is logged or kept, in the reader's
// language where it is shown (problemText).
type problem struct {
	key  string
	args []any
}

// problemf is the error of catalogue message key with args.
func problemf(key string, args ...any) error { return &problem{key, args} }

func (p *problem) Error() string { return p.text(context.Background()) }

// text is the problem in ctx's language; a state among its arguments is
// named in that language too.
func (p *problem) text(ctx context.Context) string {
	args := make([]any, len(p.args))
	for i, a := range p.args {
		if s, ok := a.(State); ok {
			a = stateText(ctx, s)
		}
		args[i] = a
	}
	return i18n.T(ctx, p.key, args...)
}

// problemText is err as the page shows it: in ctx's language when it is a
// problem of this room, as it is otherwise (an error of the recipe or the
// zoo, which are written in English).
func problemText(ctx context.Context, err error) string {
	if p, ok := err.(*problem); ok {
		return p.text(ctx)
	}
	return err.Error()
}
