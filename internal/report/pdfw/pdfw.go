// Package pdfw is a small PDF writer that streams: each page is written
// to the io.Writer when the next one starts, and the cross-reference table
// at the end. What it keeps is one page's content, the fonts' used glyphs
// and an offset per object, so a document of any length costs the memory
// of one page.
//
// It draws what billing statements need and no more: filled rectangles,
// lines, and text in embedded TrueType fonts (any rune the font has, text
// extraction included), at coordinates in points from the top-left
// corner. A placeholder is text filled in later (e.g. "Page 1 of N", N
// known only at the end): it is a form XObject drawn at once and written
// when it is filled.
//
// It imports nothing of billingd.
package pdfw

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Info is the document's metadata.
type Info struct {
	Title, Author, Subject, Creator string
	Created                         time.Time
}

// Color is an RGB colour.
type Color [3]uint8

// Writer writes one PDF document. Its methods are not safe for concurrent
// use; after an error the document is incomplete.
type Writer struct {
	out     *bufio.Writer
	n       int64   // bytes written
	offsets []int64 // by object id - 1; 0: reserved, not written yet
	err     error

	w, h   float64 // page size
	info   Info
	fonts  []*Font
	pages  []int        // page object ids
	page   bytes.Buffer // the current page's content; Reset keeps its capacity
	inPage bool
	xobj   map[string]*placeholder // by name
	onPage []*placeholder          // drawn on the current page

	z    *zlib.Writer // reused: a new one allocates about 1 MB
	zbuf bytes.Buffer
}

const (
	catalogID = 1
	pagesID   = 2
	infoID    = 3
)

type placeholder struct {
	id    int
	res   string // resource name /X…
	font  *Font
	size  float64
	color Color
	width float64
	done  bool
}

// New starts a document of pages w × h points.
func New(out io.Writer, w, h float64, info Info) *Writer {
	d := &Writer{out: bufio.NewWriterSize(out, 64<<10), w: w, h: h, info: info, xobj: map[string]*placeholder{}}
	d.offsets = make([]int64, infoID)
	d.printf("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	return d
}

func (d *Writer) printf(format string, args ...any) {
	if d.err != nil {
		return
	}
	n, err := fmt.Fprintf(d.out, format, args...)
	d.n += int64(n)
	d.err = err
}

func (d *Writer) write(p []byte) {
	if d.err != nil {
		return
	}
	n, err := d.out.Write(p)
	d.n += int64(n)
	d.err = err
}

// reserve returns a new object id, to be written later.
func (d *Writer) reserve() int {
	d.offsets = append(d.offsets, 0)
	return len(d.offsets)
}

func (d *Writer) object(id int, body string) {
	d.offsets[id-1] = d.n
	d.printf("%d 0 obj\n%s\nendobj\n", id, body)
}

// stream writes a compressed stream object with extra dictionary entries.
func (d *Writer) stream(id int, extra string, data []byte) error {
	z := &d.zbuf
	z.Reset()
	if d.z == nil {
		d.z = zlib.NewWriter(z)
	} else {
		d.z.Reset(z)
	}
	if _, err := d.z.Write(data); err != nil {
		return err
	}
	if err := d.z.Close(); err != nil {
		return err
	}
	d.offsets[id-1] = d.n
	d.printf("%d 0 obj\n<< /Length %d /Filter /FlateDecode %s >>\nstream\n", id, z.Len(), extra)
	d.write(z.Bytes())
	d.printf("\nendstream\nendobj\n")
	return d.err
}

// AddFont embeds a TrueType font (the whole file: no subsetting).
func (d *Writer) AddFont(ttf []byte) (*Font, error) {
	f, err := parseFont(ttf, "/F"+strconv.Itoa(len(d.fonts)+1))
	if err != nil {
		return nil, err
	}
	f.id = d.reserve()
	d.fonts = append(d.fonts, f)
	return f, nil
}

// AddPage ends the current page, writing it out, and starts a new one.
func (d *Writer) AddPage() error {
	if err := d.endPage(); err != nil {
		return err
	}
	d.inPage = true
	return nil
}

func (d *Writer) endPage() error {
	if !d.inPage {
		return d.err
	}
	content, page := d.reserve(), d.reserve()
	if err := d.stream(content, "", d.page.Bytes()); err != nil {
		return err
	}
	var res strings.Builder
	res.WriteString("<< /Font <<")
	for _, f := range d.fonts {
		fmt.Fprintf(&res, " %s %d 0 R", f.name, f.id)
	}
	res.WriteString(" >>")
	if len(d.onPage) > 0 {
		res.WriteString(" /XObject <<")
		for _, p := range d.onPage {
			fmt.Fprintf(&res, " %s %d 0 R", p.res, p.id)
		}
		res.WriteString(" >>")
	}
	res.WriteString(" >>")
	d.object(page, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources %s /Contents %d 0 R >>",
		pagesID, num(d.w), num(d.h), res.String(), content))
	d.pages = append(d.pages, page)
	d.page.Reset()
	d.onPage = d.onPage[:0]
	d.inPage = false
	return d.err
}

// num formats a coordinate or size with at most two decimals.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func (c Color) op(kind string) string {
	return fmt.Sprintf("%s %s %s %s", num(float64(c[0])/255), num(float64(c[1])/255), num(float64(c[2])/255), kind)
}

// FillRect fills a rectangle whose top-left corner is (x, y).
func (d *Writer) FillRect(c Color, x, y, w, h float64) {
	fmt.Fprintf(&d.page, "%s %s %s %s %s re f\n", c.op("rg"), num(x), num(d.h-y-h), num(w), num(h))
}

// Line draws a line of width lw.
func (d *Writer) Line(c Color, lw, x1, y1, x2, y2 float64) {
	fmt.Fprintf(&d.page, "%s %s w %s %s m %s %s l S\n", c.op("RG"), num(lw), num(x1), num(d.h-y1), num(x2), num(d.h-y2))
}

// Text writes s in f at size with the top of its line at (x, top).
func (d *Writer) Text(f *Font, size float64, c Color, x, top float64, s string) {
	if s == "" {
		return
	}
	fmt.Fprintf(&d.page, "BT %s %s %s Tf %s %s Td ", c.op("rg"), f.name, num(size), num(x), num(d.h-top-f.ascent*size))
	f.encode(&d.page, s)
	d.page.WriteString(" Tj ET\n")
}

// Placeholder draws the text that FillPlaceholder(name, …) gives later,
// with its top-left corner at (x, top), in at most width points.
func (d *Writer) Placeholder(name string, f *Font, size float64, c Color, x, top, width float64) error {
	p, ok := d.xobj[name]
	if !ok {
		p = &placeholder{id: d.reserve(), res: "/X" + strconv.Itoa(len(d.xobj)+1), font: f, size: size, color: c, width: width}
		d.xobj[name] = p
	}
	if p.done {
		return fmt.Errorf("pdfw: placeholder %q is filled already", name)
	}
	d.onPage = append(d.onPage, p)
	fmt.Fprintf(&d.page, "q 1 0 0 1 %s %s cm %s Do Q\n", num(x), num(d.h-top-f.ascent*size), p.res)
	return nil
}

// FillPlaceholder writes the text of a placeholder; its pages show it.
func (d *Writer) FillPlaceholder(name, text string) error {
	p, ok := d.xobj[name]
	if !ok {
		return fmt.Errorf("pdfw: no placeholder %q", name)
	}
	return d.fill(p, text)
}

func (d *Writer) fill(p *placeholder, text string) error {
	if p.done {
		return fmt.Errorf("pdfw: placeholder %s is filled already", p.res)
	}
	p.done = true
	var b bytes.Buffer
	fmt.Fprintf(&b, "BT %s %s %s Tf 0 0 Td ", p.color.op("rg"), p.font.name, num(p.size))
	p.font.encode(&b, text)
	b.WriteString(" Tj ET\n")
	extra := fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 %s %s %s] /Resources << /Font << %s %d 0 R >> >>",
		num(p.font.descent*p.size), num(p.width), num(p.font.ascent*p.size), p.font.name, p.font.id)
	return d.stream(p.id, extra, b.Bytes())
}

// Close ends the last page and writes the fonts, the page tree, the
// catalog, the metadata and the cross-reference table. Placeholders never
// filled stay empty.
func (d *Writer) Close() error {
	if err := d.endPage(); err != nil {
		return err
	}
	if len(d.pages) == 0 {
		return errors.New("pdfw: a document needs a page")
	}
	for _, p := range d.xobj {
		if !p.done {
			if err := d.fill(p, ""); err != nil {
				return err
			}
		}
	}
	for _, f := range d.fonts {
		if err := f.write(d); err != nil {
			return err
		}
	}
	var kids strings.Builder
	for i, id := range d.pages {
		if i > 0 {
			kids.WriteByte(' ')
		}
		fmt.Fprintf(&kids, "%d 0 R", id)
	}
	d.object(pagesID, fmt.Sprintf("<< /Type /Pages /Count %d /Kids [%s] >>", len(d.pages), kids.String()))
	d.object(catalogID, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesID))
	d.object(infoID, fmt.Sprintf("<< /Title %s /Author %s /Subject %s /Creator %s /Producer (billingd pdfw) /CreationDate (D:%s) >>",
		text(d.info.Title), text(d.info.Author), text(d.info.Subject), text(d.info.Creator), d.info.Created.UTC().Format("20060102150405Z")))
	xref := d.n
	d.printf("xref\n0 %d\n0000000000 65535 f \n", len(d.offsets)+1)
	for _, off := range d.offsets {
		d.printf("%010d 00000 n \n", off)
	}
	d.printf("trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(d.offsets)+1, catalogID, infoID, xref)
	if d.err != nil {
		return d.err
	}
	return d.out.Flush()
}

// text is a PDF text string: UTF-16BE with a byte order mark, in hex.
func text(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		for _, u := range utf16(r) {
			fmt.Fprintf(&b, "%04X", u)
		}
	}
	b.WriteByte('>')
	return b.String()
}
