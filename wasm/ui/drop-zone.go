package ui

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// dropZone invites files: drop them anywhere on the page, pick them, or paste them.
// The listeners themselves are the page's (watchFiles): a drop must be handled while
// its event is dispatched, which go-app's own handlers do not guarantee.
type dropZone struct {
	app.Compo

	Dragging bool
	Ready    bool
	InputID  string
}

func (d *dropZone) Render() app.UI {
	class := "drop-zone"
	if d.Dragging {
		class += " dragging"
	}
	return app.Section().ID("drop-zone").Class(class).DataSet("ready", d.Ready).DataSet("client", app.IsClient).Body(
		app.P().Class("drop-title").Text("Drop images here"),
		app.P().Body(
			app.Text("PNG, JPEG, GIF or WebP, one or many: "),
			app.Label().Class("button").For(d.InputID).Text("choose files"),
			app.Input().ID(d.InputID).Class("visually-hidden").Type("file").Accept("image/*").Multiple(true),
			app.Text(" or paste them."),
		),
		app.P().Class("privacy").Text("Images are scored on this device; nothing is uploaded."),
	)
}
