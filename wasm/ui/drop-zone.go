package ui

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// dropZone invites files: drop them anywhere on the page, pick them, or paste them.
// The listeners themselves are the page's (watchFiles): a drop must be handled while
// its event is dispatched, which go-app's own handlers do not guarantee.
type dropZone struct {
	app.Compo

	Dragging bool
	// Ready is set once the model can score; until then the zone says what is being
	// prepared (Status), and files dropped wait.
	Ready, Failed bool
	Status        string
	InputID       string
}

func (d *dropZone) Render() app.UI {
	class := "drop-zone"
	if d.Dragging {
		class += " dragging"
	}
	if !d.Ready {
		class += " not-ready"
	}
	title, status := "Drop images here", ""
	switch {
	case !app.IsClient:
		// The page as the server sent it: nothing listens for files yet.
		title, status = "Getting ready…", "Loading the app (about 2.5 MB the first time, then from this device)."
	case !d.Ready && !d.Failed:
		title, status = "Getting ready…", d.Status+" Images dropped now wait, and are scored as soon as it is ready."
	}
	return app.Section().ID("drop-zone").Class(class).DataSet("ready", d.Ready).DataSet("client", app.IsClient).Body(
		app.P().Class("drop-title").Text(title),
		app.If(status != "", app.P().Class("drop-status").ID("drop-status").Text(status)),
		app.P().Body(
			app.Text("PNG, JPEG, GIF or WebP, one or many: "),
			app.Label().Class("button").For(d.InputID).Text("choose files"),
			app.Input().ID(d.InputID).Class("visually-hidden").Type("file").Accept("image/*").Multiple(true),
			app.Text(" or paste them."),
		),
		app.P().Class("privacy").Text("Images are scored on this device; nothing is uploaded."),
	)
}
