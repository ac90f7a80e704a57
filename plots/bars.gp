# bars.gp - clustered bars with error bars: one cluster per workload, one
# bar per mode (or per document, backend, ...). Reads CSV written by
# `vtbench export --csv`:
#   label,SERIES1,SERIES1_lo,SERIES1_hi,SERIES2,SERIES2_lo,SERIES2_hi,...
# (value and the ends of its 95% confidence interval; NaN: not measured).
# Variables (gnuplot -e): infile, outbase (writes outbase.png and .svg),
# nseries (number of series), ytitle, ptitle, logy (1: log scale), refline
# (1: draw y = 1, for ratios), yscale (divide values by it) and yformat
# (tick format), e.g. yscale=1e9, yformat='%.0s %cs' to print ns as us/ms,
# keytitle (legend title), width (pixels; default 1100), colours (one
# "#rrggbb" per series, space-separated: vtbench gives each mode its fixed
# colour; default: the Dark2 palette in order).
if (!exists("logy")) logy = 0
if (!exists("refline")) refline = 0
if (!exists("yscale")) yscale = 1
if (!exists("yformat")) yformat = "% h"
if (!exists("keytitle")) keytitle = ""
if (!exists("width")) width = 1100
# Tick labels on several lines: "NAME P1 P2 [DETAIL]" -> NAME / P1 / P2 / DETAIL.
head(s) = (b = strstrt(s, " ["), b ? s[1:b-1] : s)
tail(s) = (b = strstrt(s, " ["), b ? "\n".s[b+2:strlen(s)-1] : "")
split1(h) = (p = strstrt(h, " "), p ? h[1:p-1]."\n".split1(h[p+1:*]) : h)
wrap(s) = split1(head(s)).tail(s)
set datafile separator ","
set datafile missing "NaN"
set style data histogram
set style histogram errorbars gap 2 lw 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
# Colour-blind-safe palette (ColorBrewer Dark2), same order in every plot.
set linetype 1 lc rgb "#1b9e77"
set linetype 2 lc rgb "#d95f02"
set linetype 3 lc rgb "#7570b3"
set linetype 4 lc rgb "#e7298a"
set linetype 5 lc rgb "#66a61e"
set linetype 6 lc rgb "#e6ab02"
set linetype 7 lc rgb "#a6761d"
set linetype 8 lc rgb "#666666"
set linetype cycle 8
if (exists("colours")) { do for [i=1:words(colours)] { set linetype i lc rgb word(colours, i) } }
# The legend above the plot, inside the image, in rows.
set key outside top center horizontal noenhanced samplen 2 width 1 maxcols 4 title keytitle
set xtics norotate noenhanced font ",10" nomirror
set ylabel ytitle noenhanced
set format y yformat
set title ptitle noenhanced font ",14"
set grid ytics
set bmargin 6
set yrange [0:*]
set offsets graph 0, graph 0, graph 0.08, 0
if (logy) { set logscale y; set yrange [*:*] }
if (refline) { set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#444444" front }
set terminal pngcairo size width,720 noenhanced font ",12"
set output outbase.".png"
plot for [i=1:nseries] infile using (column(3*i-1)/yscale):(column(3*i)/yscale):(column(3*i+1)/yscale):xtic(wrap(strcol(1))) title columnheader(3*i-1)
set terminal svg size width,720 noenhanced font ",12"
set output outbase.".svg"
replot
set output
