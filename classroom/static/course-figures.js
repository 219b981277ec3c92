// Draws the lessons' stored plotly figures (application/vnd.plotly.v1+json outputs) with the local
// plotly.js, in the course pack's pages and in the slide decks. Widgets' outputs use the same function
// (course-widgets.js), so a figure looks the same wherever it is stored.
(function () {
  "use strict";
  var PLOTLY_MIME = "application/vnd.plotly.v1+json";
  // On a 720 px slide a figure shares the height with its cell's code. A taller figure is zoomed out as a
  // whole (drawn at its stored size, so nothing overlaps); pages keep the stored size.
  var SLIDE_FIGURE_MAX_HEIGHT = 600;

  function drawPlotlyFigure(element, figure) {
    var height = (figure.layout && figure.layout.height) || 450;  // plotly's default height
    if (document.querySelector(".reveal") && height > SLIDE_FIGURE_MAX_HEIGHT) {
      element.style.zoom = SLIDE_FIGURE_MAX_HEIGHT / height;
    }
    var config = Object.assign({responsive: true, displaylogo: false}, figure.config);
    // A figure drawn inside a hidden slide or a closed widget has no width yet: redraw when it gets one.
    new ResizeObserver(function () {
      if (element.offsetWidth && element.classList.contains("js-plotly-plot")) {
        window.Plotly.Plots.resize(element);
      }
    }).observe(element);
    return window.Plotly.newPlot(element, figure.data, figure.layout, config);
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
