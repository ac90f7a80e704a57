# stacked.gp - exits per reason as stacked bars, one bar per configuration.
# Reads CSV written by `vtbench export --csv`:
#   config,REASON1,REASON2,...   (median count per run of each reason)
# Variables (gnuplot -e): infile, outbase, ncols (columns incl. the label),
# ytitle, ptitle, width (pixels; default 1100), keytitle (legend title;
# default "exit reason"; the model's overhead breakdown uses "cause").
if (!exists("width")) width = 1100
if (!exists("keytitle")) keytitle = "exit reason"
# Tick labels on several lines: "NAME P1 P2 [DETAIL]" -> NAME / P1 / P2 / DETAIL.
head(s) = (b = strstrt(s, " ["), b ? s[1:b-1] : s)
tail(s) = (b = strstrt(s, " ["), b ? "\n".s[b+2:strlen(s)-1] : "")
split1(h) = (p = strstrt(h, " "), p ? h[1:p-1]."\n".split1(h[p+1:*]) : h)
wrap(s) = split1(head(s)).tail(s)
set datafile separator ","
set datafile missing "NaN"
set style data histogram
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set linetype 1 lc rgb "#1b9e77"
set linetype 2 lc rgb "#d95f02"
set linetype 3 lc rgb "#7570b3"
set linetype 4 lc rgb "#e7298a"
set linetype 5 lc rgb "#66a61e"
set linetype 6 lc rgb "#e6ab02"
set linetype 7 lc rgb "#a6761d"
set linetype 8 lc rgb "#666666"
set linetype cycle 8
set key outside right top vertical noenhanced title keytitle
set xtics norotate noenhanced font ",10" nomirror
set ylabel ytitle noenhanced
set format y "% h"
set title ptitle noenhanced font ",14"
set grid ytics
set bmargin 6
set yrange [0:*]
set offsets graph 0, graph 0, graph 0.08, 0
set terminal pngcairo size width,650 noenhanced font ",12"
set output outbase.".png"
plot for [i=2:ncols] infile using i:xtic(wrap(strcol(1))) title columnheader(i)
set terminal svg size width,650 noenhanced font ",12"
set output outbase.".svg"
replot
set output
