package ui

import (
	_ "embed"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

//go:generate go run ./internal/icongen -o icon.png

//go:embed icon.png
var iconPNG []byte

// Icon is mgvton's application icon (a white T-shirt on a violet to pink
// rounded square), made by internal/icongen.
var Icon fyne.Resource = fyne.NewStaticResource("mgvton.png", iconPNG)

// Colours of the app; the rest comes from Fyne's dark theme, which suits a
// video app.
var (
	colorAccent   = color.NRGBA{0x8b, 0x6c, 0xff, 0xff} // violet of the icon
	colorRecord   = color.NRGBA{0xf0, 0x3e, 0x4a, 0xff}
	colorVideoBG  = color.NRGBA{0x0b, 0x0b, 0x10, 0xff}
	colorOverlay  = color.NRGBA{0x00, 0x00, 0x00, 0xa0} // pills over the video
	colorInfo     = color.NRGBA{0x2b, 0x3a, 0x67, 0xff}
	colorWarning  = color.NRGBA{0x6b, 0x45, 0x12, 0xff}
	colorOnVideo  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colorSubtle   = color.NRGBA{0xb4, 0xb4, 0xc3, 0xff}
	colorCardBG   = color.NRGBA{0x26, 0x26, 0x30, 0xff}
	colorCardOver = color.NRGBA{0x32, 0x32, 0x3e, 0xff}
)

// appTheme is Fyne's default theme, always dark, with the icon's violet as
// the primary colour.
type appTheme struct{}

var _ fyne.Theme = appTheme{}

func (appTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNamePrimary:
		return colorAccent
	case theme.ColorNameFocus:
		return color.NRGBA{0x8b, 0x6c, 0xff, 0x60}
	case theme.ColorNameSelection:
		return color.NRGBA{0x8b, 0x6c, 0xff, 0x40}
	case theme.ColorNameBackground:
		return color.NRGBA{0x17, 0x17, 0x1d, 0xff}
	case theme.ColorNameButton:
		return color.NRGBA{0x2a, 0x2a, 0x34, 0xff}
	case theme.ColorNameInputBackground:
		return color.NRGBA{0x22, 0x22, 0x2b, 0xff}
	case theme.ColorNameHeaderBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return color.NRGBA{0x1f, 0x1f, 0x27, 0xff}
	case theme.ColorNameError:
		return colorRecord
	}
	return theme.DefaultTheme().Color(n, theme.VariantDark)
}

func (appTheme) Font(s fyne.TextStyle) fyne.Resource     { return theme.DefaultTheme().Font(s) }
func (appTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }
func (appTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameInputRadius || n == theme.SizeNameSelectionRadius {
		return 6
	}
	return theme.DefaultTheme().Size(n)
}
