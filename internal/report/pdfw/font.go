package pdfw

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Font is an embedded TrueType font. Text is written as glyph ids
// (Identity-H), and the glyphs a document used get widths and a ToUnicode
// map, so that viewers place them right and text extraction reads them
// back as the runes they came from.
type Font struct {
	name    string // resource name, /F1…
	ttf     []byte
	sf      *sfnt.Font
	buf     sfnt.Buffer
	upem    float64
	ascent  float64 // in em
	descent float64 // in em, negative
	glyphs  map[rune]glyph
	drawAs  map[rune]rune
	used    map[sfnt.GlyphIndex]rune
	id      int // object id of the Type0 font, written at Close
}

type glyph struct {
	index   sfnt.GlyphIndex
	advance float64 // in em
}

func parseFont(ttf []byte, name string) (*Font, error) {
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, err
	}
	f := &Font{name: name, ttf: ttf, sf: sf, upem: float64(sf.UnitsPerEm()),
		glyphs: map[rune]glyph{}, drawAs: map[rune]rune{}, used: map[sfnt.GlyphIndex]rune{}}
	m, err := sf.Metrics(&f.buf, fixed.I(int(sf.UnitsPerEm())), font.HintingNone)
	if err != nil {
		return nil, err
	}
	f.ascent, f.descent = float64(m.Ascent)/64/f.upem, -float64(m.Descent)/64/f.upem
	return f, nil
}

// DrawAs draws r with the glyph of as, when the font has one; text
// extraction still reads r. (The Go fonts draw U+002D as a minus sign,
// wider than an en dash; their soft hyphen is a hyphen.)
func (f *Font) DrawAs(r, as rune) {
	if x, err := f.sf.GlyphIndex(&f.buf, as); err == nil && x != 0 {
		f.drawAs[r] = as
		delete(f.glyphs, r)
	}
}

func (f *Font) glyph(r rune) glyph {
	if g, ok := f.glyphs[r]; ok {
		return g
	}
	shape := r
	if as, ok := f.drawAs[r]; ok {
		shape = as
	}
	x, err := f.sf.GlyphIndex(&f.buf, shape)
	if err != nil {
		x = 0
	}
	adv, err := f.sf.GlyphAdvance(&f.buf, x, fixed.I(int(f.upem)), font.HintingNone)
	if err != nil {
		adv = 0
	}
	g := glyph{index: x, advance: float64(adv) / 64 / f.upem}
	f.glyphs[r] = g
	return g
}

// Width is the width of s at size points.
func (f *Font) Width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += f.glyph(r).advance
	}
	return w * size
}

// encode writes s as a hex string of glyph ids and records the glyphs.
func (f *Font) encode(b *bytes.Buffer, s string) {
	b.WriteByte('<')
	for _, r := range s {
		g := f.glyph(r)
		if _, ok := f.used[g.index]; !ok && g.index != 0 {
			f.used[g.index] = r
		}
		const hex = "0123456789ABCDEF"
		x := uint16(g.index)
		b.Write([]byte{hex[x>>12], hex[x>>8&15], hex[x>>4&15], hex[x&15]})
	}
	b.WriteByte('>')
}

// write writes the font's objects: Type0 font, CID font, descriptor,
// font file and ToUnicode map.
func (f *Font) write(d *Writer) error {
	cid, desc, file, toUni := d.reserve(), d.reserve(), d.reserve(), d.reserve()
	ps, err := f.sf.Name(&f.buf, sfnt.NameIDPostScript)
	if err != nil || ps == "" {
		ps = strings.TrimPrefix(f.name, "/")
	}
	ps = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || strings.ContainsRune("()<>[]{}/%#", r) {
			return -1
		}
		return r
	}, ps)
	d.object(f.id, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", ps, cid, toUni))

	gids := slices.Sorted(func(yield func(sfnt.GlyphIndex) bool) {
		for g := range f.used {
			if !yield(g) {
				return
			}
		}
	})
	var w strings.Builder
	w.WriteString("[")
	for _, g := range gids {
		adv, err := f.sf.GlyphAdvance(&f.buf, g, fixed.I(int(f.upem)), font.HintingNone)
		if err != nil {
			return err
		}
		fmt.Fprintf(&w, " %d [%d]", g, int(float64(adv)/64/f.upem*1000+0.5))
	}
	w.WriteString(" ]")
	d.object(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 500 /W %s >>", ps, desc, w.String()))

	bounds, err := f.sf.Bounds(&f.buf, fixed.I(int(f.upem)), font.HintingNone)
	if err != nil {
		return err
	}
	em := func(v fixed.Int26_6) int { return int(float64(v) / 64 / f.upem * 1000) }
	// sfnt's bounds grow downwards (y down); PDF's upwards.
	d.object(desc, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 32 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>",
		ps, em(bounds.Min.X), -em(bounds.Max.Y), em(bounds.Max.X), -em(bounds.Min.Y),
		int(f.ascent*1000), int(f.descent*1000), int(f.ascent*1000), file))
	if err := d.stream(file, fmt.Sprintf("/Length1 %d", len(f.ttf)), f.ttf); err != nil {
		return err
	}

	var cm strings.Builder
	cm.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for chunk := range slices.Chunk(gids, 100) {
		fmt.Fprintf(&cm, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			fmt.Fprintf(&cm, "<%04X> <", uint16(g))
			for _, u := range utf16(f.used[g]) {
				fmt.Fprintf(&cm, "%04X", u)
			}
			cm.WriteString(">\n")
		}
		cm.WriteString("endbfchar\n")
	}
	cm.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return d.stream(toUni, "", []byte(cm.String()))
}

func utf16(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xD800 + r>>10), uint16(0xDC00 + r&0x3FF)}
}
