import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, Colors, Legend, LinearScale, Tooltip } from "chart.js";

// Chart.js, tree-shaken: stacked bars in ~57 KB gzipped, canvas drawn under a
// strict CSP. Colors must be registered or every series is grey.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, Colors);

export function StackedBars({ labels, series, title }: { labels: string[]; series: { label: string; values: number[] }[]; title: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: { labels, datasets: series.map((s) => ({ label: s.label, data: s.values })) },
      options: {
        animation: false,
        maintainAspectRatio: false,
        responsive: true,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
        plugins: { legend: { position: "bottom" } },
      },
    });
    return () => chart.destroy();
  }, [labels, series]);
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={`${title}: ${series.length} products, ${labels[0]} to ${labels.at(-1)}`} />
    </div>
  );
}
