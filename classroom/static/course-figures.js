// Draws the lessons' stored plotly figures (application/vnd.plotly.v1+json outputs) with the local
// plotly.js, in the course pack's pages and in the slide decks. Widgets' outputs use the same function
// (course-widgets.js), so a figure looks the same wherever it is stored.
(function () {
  "use strict";
  var PLOTLY_MIME = "application/vnd.plotly.v1+json";
  // On a 720 px slide a figure shares the height with its cell's code: cap it (pages keep the stored size).
  var SLIDE_FIGURE_MAX_HEIGHT = 540;

  function drawPlotlyFigure(element, figure) {
    var layout = Object.assign({}, figure.layout);
    if (document.querySelector(".reveal") && (layout.height || 450) > SLIDE_FIGURE_MAX_HEIGHT) {
      layout.height = SLIDE_FIGURE_MAX_HEIGHT;
    }
    var config = Object.assign({responsive: true, displaylogo: false}, figure.config);
    // A figure drawn inside a hidden slide or a closed widget has no width yet: redraw when it gets one.
    new ResizeObserver(function () {
      if (element.offsetWidth && element.classList.contains("js-plotly-plot")) {
        window.Plotly.Plots.resize(element);
      }
    }).observe(element);
    return window.Plotly.newPlot(element, figure.data, layout, config);
  }

  window.courseDrawPlotlyFigure = drawPlotlyFigure;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('script[type="' + PLOTLY_MIME + '"]').forEach(function (tag) {
      var element = document.createElement("div");
      tag.parentElement.insertBefore(element, tag);
      drawPlotlyFigure(element, JSON.parse(tag.textContent));
    });
  });
}());
