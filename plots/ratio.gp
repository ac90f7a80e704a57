# ratio.gp - ratios with their intervals as points around a dashed line at
# 1, one cluster per workload, one point per series (backend): a ratio below
# the line is a saving, above a cost, at any scale (bars would start at an
# arbitrary bottom on a log axis). Reads the CSV layout of bars.gp:
#   label,SERIES1,SERIES1_lo,SERIES1_hi,...   (NaN: not measured)
# Variables (gnuplot -e): infile, outbase, nseries, ytitle, ptitle, logy
# (1: log scale), keytitle, colours (one "#rrggbb" per series), width.
if (!exists("logy")) logy = 0
if (!exists("keytitle")) keytitle = ""
if (!exists("width")) width = 1100
head(s) = (b = strstrt(s, " ["), b ? s[1:b-1] : s)
split1(h) = (p = strstrt(h, " "), p ? h[1:p-1]."\n".split1(h[p+1:*]) : h)
set datafile separator ","
set datafile missing "NaN"
set linetype 1 lc rgb "#7570b3"
set linetype 2 lc rgb "#d95f02"
set linetype cycle 8
if (exists("colours")) { do for [i=1:words(colours)] { set linetype i lc rgb word(colours, i) } }
set key outside top center horizontal noenhanced samplen 1 width 1 title keytitle
set xtics norotate noenhanced font ",10" nomirror
set ylabel ytitle noenhanced
set title ptitle noenhanced font ",14"
set grid ytics
set bmargin 6
set xrange [-0.6:*]
set offsets 0, 0.6, graph 0.1, graph 0.1
if (logy) { set logscale y; set format y "%g" }
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#444444" back
off(i) = (i - (nseries + 1) / 2.0) * 0.18
do for [t=1:2] {
  if (t == 1) {
    set terminal pngcairo size width,560 noenhanced font ",12"
    set output outbase.".png"
  } else {
    set terminal svg size width,560 noenhanced font ",12"
    set output outbase.".svg"
  }
  # the tick labels once per cluster (an invisible series), then the points
  plot infile skip 1 using 0:(NaN):xtic(split1(head(strcol(1)))) notitle with points, \
       for [i=1:nseries] infile using ($0 + off(i)):(column(3*i-1)):(column(3*i)):(column(3*i+1)) \
       with yerrorbars lt i pt 7 ps 1.6 lw 2 title columnheader(3*i-1)
}
set output
