package ui

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// appHeader shows the app's name, whether the browser is online, and offers a reload
// when the service worker has installed a newer version of the app.
type appHeader struct {
	app.Compo

	Online bool

	updateAvailable bool
}

func (h *appHeader) OnMount(ctx app.Context) {
	h.updateAvailable = ctx.AppUpdateAvailable()
}

// OnAppUpdate is called by go-app when a new version has been installed in the
// background; the page keeps running the old one until it reloads.
func (h *appHeader) OnAppUpdate(ctx app.Context) {
	h.updateAvailable = ctx.AppUpdateAvailable()
}

func (h *appHeader) Render() app.UI {
	status, label := "offline", "Offline: scoring still works with cached models"
	if h.Online {
		status, label = "online", "Online"
	}
	return app.Header().Class("topbar").Body(
		app.A().Class("brand").Href(PathCheck).Body(
			app.Img().Src("/web/icon.svg").Alt("").Width(32).Height(32),
			app.Span().Class("brand-name").Text("GANomaly"),
			app.Span().Class("brand-tag").Text("anomaly check in your browser"),
		),
		app.Nav().Class("topnav").Body(
			app.A().Href(PathCheck).ID("nav-check").Text("Check"),
			app.A().Href(PathTrain).ID("nav-train").Text("Train"),
			app.A().Href(PathTrainHere).ID("nav-train-here").Text("Train here"),
		),
		app.Span().Class("net "+status).ID("net-status").DataSet("online", h.Online).Title(label).Body(
			app.Span().Class("dot"),
			app.Text(status),
		),
		app.If(h.updateAvailable, app.Div().Class("update").ID("update-banner").Role("status").Body(
			app.Span().Text("A new version of the app is ready."),
			app.Button().Class("button primary").ID("reload-button").Text("Reload").
				OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }),
		)),
	)
}
