export default {
  title: "通知",
  readAll: "全部已读",
  empty: "暂无通知",
  marked: "已全部标为已读",
};
