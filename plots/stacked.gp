# stacked.gp - stacked bars, one bar per configuration (exits per reason,
# or the model's overhead by cause), in panels: one panel per workload.
# Reads CSV written by `vtbench export --csv`: data blocks separated by two
# blank lines, one per panel, each starting with its header line
#   WORKLOAD (BACKEND),PART1,PART2,...   then MODE,value,value,... rows
# Variables (gnuplot -e): infile, outbase, ncols (columns incl. the label),
# ytitle, ptitle, keytitle (legend title; default "exit reason"), npanels
# (number of blocks; default 1), panels (their titles, '|'-separated), width
# (pixels of a panel; default 520; the legend adds 260).
if (!exists("keytitle")) keytitle = "exit reason"
if (!exists("npanels")) npanels = 1
if (!exists("panels")) panels = ""
if (!exists("width")) width = 520
# k-th '|'-separated field of s
field(s, k) = (p = strstrt(s, "|"), k <= 1 ? (p ? s[1:p-1] : s) : (p ? field(s[p+1:*], k - 1) : ""))
# Bar labels: "paging/tlb/nmi/irq" on two lines.
mlabel(s) = (p = strstrt(s, "/"), q = p ? strstrt(s[p+1:*], "/") : 0, q ? s[1:p+q-1]."\n".s[p+q+1:*] : s)
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
set key autotitle columnheader
set xtics norotate noenhanced font ",9" nomirror
set format y "% h"
set grid ytics
set yrange [0:*]
set offsets graph 0, graph 0, graph 0.08, 0
cols = npanels < 3 ? npanels : 3
W = cols*width + 260
rows = int((npanels + cols - 1) / cols)
H = rows*380 + 120
do for [t=1:2] {
  if (t == 1) {
    set terminal pngcairo size W, H noenhanced font ",11"
    set output outbase.".png"
  } else {
    set terminal svg size W, H noenhanced font ",11"
    set output outbase.".svg"
  }
  set multiplot layout rows, cols title ptitle font ",14" margins 0.06, 0.82, 60.0/H, 1 - 90.0/H spacing 0.05, 80.0/H
  do for [k=1:npanels] {
    set title field(panels, k) noenhanced font ",11"
    set ylabel (k - 1) % cols == 0 ? ytitle : "" noenhanced
    # the legend once, in a column right of the panels, inside the image
    if (k == 1) { set key at screen 0.84, screen 1 - 90.0/H left top vertical Left reverse noenhanced title keytitle samplen 2 } else { unset key }
    plot for [i=2:ncols] infile index (k - 1) using i:xtic(mlabel(strcol(1)))
  }
  unset multiplot
}
set output
